/**
 * DICOM ingest library: validate, identify, de-identify, decode and thumbnail chest X-rays, plus
 * a synthetic chest generator for demo data and fixtures. Pure functions over bytes: no HTTP, no
 * storage, no logging (messages never contain patient attributes).
 */
export { type DicomError, type DicomErrorCode, DICOM_ERRORS, dicomError } from './errors.js';
export { type DicomInfo, type InspectOptions, imageIdFor, inspectDicom, MAX_IMAGE_SIDE } from './inspect.js';
export { fileStemId, imageIdFromUid } from './image-id.js';
export { type DecodedDicom, type DecodeOptions, decodePixels } from './decode.js';
export { createFrameDecoders, type FrameDecoders } from './codecs/frame-decoders.js';
export { type DeidentifyOptions, type DeidProfile, deidentify } from './deidentify.js';
export { createUidMapper } from './uid-mapper.js';
export { renderThumbnail, type ThumbnailOptions } from './thumbnail.js';
export {
  makeSyntheticChest,
  makeSyntheticChestDicom,
  type SyntheticChest,
  type SyntheticChestOptions,
} from './synthetic.js';
export { DEFAULT_MAX_INFLATED_BYTES, type ParseLimits } from './parse.js';
export {
  ACCEPTED_TRANSFER_SYNTAXES,
  acceptedTransferSyntax,
  describeTransferSyntax,
  type TransferSyntax,
} from './transfer-syntax.js';
