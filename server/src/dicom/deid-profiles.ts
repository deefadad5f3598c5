import { TAG } from './tags.js';

/**
 * What each de-identification profile keeps. Both are keep-lists: anything not listed is dropped,
 * including private tags, curves, overlays and attributes we do not know, which is stricter than
 * PS3.15 Table E.1-1 (it lets unlisted attributes through) and therefore still conforms.
 */

/**
 * PS3.15 Annex E Basic Application Level Confidentiality Profile with the Retain Patient
 * Characteristics Option (sex, age, size, weight): the attributes Table E.1-1 marks K (keep) or
 * does not list that reading needs: pixel module, spacing, modality LUT, VOI, presentation,
 * lossy compression history, and non-identifying image descriptors.
 */
export const BASIC_PROFILE_KEEP: ReadonlySet<number> = new Set([
  TAG.SpecificCharacterSet,
  TAG.ImageType,
  TAG.SOPClassUID,
  TAG.Modality,
  TAG.ConversionType,
  TAG.PatientSex,
  TAG.PatientAge,
  TAG.PatientSize,
  TAG.PatientWeight,
  TAG.BodyPartExamined,
  TAG.EstimatedRadiographicMagnificationFactor,
  TAG.ImagerPixelSpacing,
  TAG.ViewPosition,
  TAG.SeriesNumber,
  TAG.InstanceNumber,
  TAG.PatientOrientation,
  TAG.Laterality,
  TAG.ImageLaterality,
  TAG.SamplesPerPixel,
  TAG.PhotometricInterpretation,
  TAG.PlanarConfiguration,
  TAG.NumberOfFrames,
  TAG.Rows,
  TAG.Columns,
  TAG.PixelSpacing,
  TAG.PixelAspectRatio,
  TAG.BitsAllocated,
  TAG.BitsStored,
  TAG.HighBit,
  TAG.PixelRepresentation,
  TAG.SmallestImagePixelValue,
  TAG.LargestImagePixelValue,
  TAG.PixelPaddingValue,
  TAG.BurnedInAnnotation,
  TAG.PixelSpacingCalibrationType,
  TAG.PixelIntensityRelationship,
  TAG.PixelIntensityRelationshipSign,
  TAG.WindowCenter,
  TAG.WindowWidth,
  TAG.RescaleIntercept,
  TAG.RescaleSlope,
  TAG.RescaleType,
  TAG.WindowCenterWidthExplanation,
  TAG.VOILUTFunction,
  TAG.LossyImageCompression,
  TAG.LossyImageCompressionRatio,
  TAG.LossyImageCompressionMethod,
  TAG.ModalityLUTSequence,
  TAG.VOILUTSequence,
  TAG.PresentationLUTShape,
  TAG.PixelData,
]);

/** UIDs the Basic Profile replaces (action U) through the caller's mapper. */
export const BASIC_PROFILE_REPLACE_UIDS: readonly number[] = [
  TAG.SOPInstanceUID,
  TAG.StudyInstanceUID,
  TAG.SeriesInstanceUID,
  TAG.FrameOfReferenceUID,
];

/**
 * Type 2 attributes of the Patient and General Study modules that Table E.1-1 marks Z: written
 * with an empty value so the output is still a valid DX object.
 */
export const BASIC_PROFILE_EMPTY: readonly [number, string][] = [
  [TAG.PatientName, 'PN'],
  [TAG.PatientID, 'LO'],
  [TAG.PatientBirthDate, 'DA'],
  [TAG.StudyDate, 'DA'],
  [TAG.StudyTime, 'TM'],
  [TAG.AccessionNumber, 'SH'],
  [TAG.ReferringPhysicianName, 'PN'],
  [TAG.StudyID, 'SH'],
];

/** Items of LUT sequences keep only the table itself. */
export const LUT_ITEM_KEEP: ReadonlySet<number> = new Set([
  TAG.LUTDescriptor,
  TAG.LUTExplanation,
  TAG.ModalityLUTType,
  TAG.LUTData,
]);

/** The 25 attributes VinDr-CXR's released files keep (DOMAIN.md); no UID, no modality. */
export const VINDR_KEEP: ReadonlySet<number> = new Set([
  TAG.PatientSex,
  TAG.PatientAge,
  TAG.PatientSize,
  TAG.PatientWeight,
  TAG.SamplesPerPixel,
  TAG.PhotometricInterpretation,
  TAG.NumberOfFrames,
  TAG.Rows,
  TAG.Columns,
  TAG.PixelSpacing,
  TAG.PixelAspectRatio,
  TAG.BitsAllocated,
  TAG.BitsStored,
  TAG.HighBit,
  TAG.PixelRepresentation,
  TAG.SmallestImagePixelValue,
  TAG.LargestImagePixelValue,
  TAG.WindowCenter,
  TAG.WindowWidth,
  TAG.RescaleIntercept,
  TAG.RescaleSlope,
  TAG.LossyImageCompression,
  TAG.LossyImageCompressionRatio,
  TAG.LossyImageCompressionMethod,
  TAG.PixelData,
]);
