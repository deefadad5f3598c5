/**
 * Why a file was refused. Each code has one HTTP status so the route layer maps errors
 * without reading messages: 400 the bytes are not a readable DICOM file, 413 the image is larger
 * than we ever allocate, 415 a transfer syntax we cannot decode, 422 readable DICOM that is not
 * an image we can read (missing or impossible attributes, inconsistent pixel data).
 * Messages never contain patient attributes.
 */
export const DICOM_ERRORS = {
  dicom_empty: 400,
  dicom_not_dicom: 400,
  dicom_no_preamble: 400,
  dicom_truncated: 400,
  dicom_malformed: 400,
  dicom_too_large: 413,
  dicom_unsupported_syntax: 415,
  dicom_missing_tag: 422,
  dicom_bad_value: 422,
  dicom_unsupported_image: 422,
  dicom_pixel_length: 422,
  dicom_no_fragments: 422,
  dicom_decode_failed: 422,
} as const;

export type DicomErrorCode = keyof typeof DICOM_ERRORS;

export interface DicomError {
  code: DicomErrorCode;
  status: 400 | 413 | 415 | 422;
  message: string;
}

export function dicomError(code: DicomErrorCode, message: string): DicomError {
  return { code, status: DICOM_ERRORS[code], message };
}
