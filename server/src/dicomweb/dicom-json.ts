import { z } from 'zod';

/**
 * The DICOM JSON model (PS3.18 F.2) as QIDO-RS and STOW-RS answer it: an object keyed by
 * eight hex digits. Only what we read is typed; everything else passes through untouched.
 */
const ElementSchema = z
  .object({
    vr: z.string(),
    Value: z.array(z.unknown()).optional(),
  })
  .passthrough();
export const DicomJsonSchema = z.record(z.string(), ElementSchema);
export type DicomJson = z.infer<typeof DicomJsonSchema>;
export const DicomJsonListSchema = z.array(DicomJsonSchema);

/** The first value of an element as text (person names by their alphabetic form), or undefined. */
export function jsonString(item: DicomJson, tag: string): string | undefined {
  const value = item[tag]?.Value?.[0];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && 'Alphabetic' in value) {
    const name = (value as { Alphabetic?: unknown }).Alphabetic;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

/** Every value of an element as text. */
export function jsonStrings(item: DicomJson, tag: string): string[] {
  return (item[tag]?.Value ?? []).flatMap((v) =>
    typeof v === 'string' ? [v] : typeof v === 'number' ? [String(v)] : [],
  );
}

/** The first value of a numeric element, or undefined. */
export function jsonNumber(item: DicomJson, tag: string): number | undefined {
  const value = item[tag]?.Value?.[0];
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The items of a sequence element. */
export function jsonItems(item: DicomJson, tag: string): DicomJson[] {
  const parsed = z.array(DicomJsonSchema).safeParse(item[tag]?.Value ?? []);
  return parsed.success ? parsed.data : [];
}

/** Tags we query and read, as DICOM JSON keys. */
export const JSON_TAG = {
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDescription: '00081030',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  NumberOfStudyRelatedInstances: '00201208',
} as const;
