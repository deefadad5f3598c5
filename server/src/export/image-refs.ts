import { createHash } from 'node:crypto';
import type { Result } from '@cxr/shared';
import { cleanUid } from '../dicom/inspect.js';
import { parseDicomBytes } from '../dicom/parse.js';
import { DX_FOR_PRESENTATION, parserKey, TAG } from '../dicom/tags.js';

const MEDIA_STORAGE_SOP_CLASS_UID = 0x00020002;
const MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003;

/** What an SR needs from the de-identified image it describes. */
export interface ImageRefs {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Whether Study/Series UIDs were missing from the file and derived (VinDr keep-list). */
  readonly derivedStudy: boolean;
  /** De-identified patient attributes, copied so a PACS files the SR with its image. */
  readonly patient: { name: string; id: string; sex: string; age: string };
}

/**
 * A UID derived from text: `2.25.` + 128 bits of its SHA-256 as a decimal (PS3.5 B.2), so the
 * same input always names the same instance and a re-export replaces rather than duplicates.
 */
export function derivedUid(text: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 32)}`)}`;
}

/**
 * Reads the UIDs of a stored (de-identified) file. Files kept under the VinDr keep-list have no
 * Study or Series UID: those are derived from the SOP Instance UID, the same for every export.
 */
export function readImageRefs(bytes: Uint8Array): Result<ImageRefs, { code: string; message: string }> {
  const parsed = parseDicomBytes(bytes);
  if (!parsed.ok) return parsed;
  const ds = parsed.value.dataSet;
  const text = (tag: number) => {
    try {
      return ds.string(parserKey(tag))?.trim() ?? '';
    } catch {
      return '';
    }
  };
  const uid = (tag: number) => cleanUid(text(tag));
  // The VinDr keep-list drops the dataset's SOP UIDs; the file meta header still names them.
  const sop = uid(TAG.SOPInstanceUID) ?? uid(MEDIA_STORAGE_SOP_INSTANCE_UID);
  if (!sop)
    return {
      ok: false,
      error: { code: 'unprocessable', message: 'the stored image has no SOP Instance UID' },
    };
  const study = uid(TAG.StudyInstanceUID);
  const series = uid(TAG.SeriesInstanceUID);
  return {
    ok: true,
    value: {
      sopClassUid: uid(TAG.SOPClassUID) ?? uid(MEDIA_STORAGE_SOP_CLASS_UID) ?? DX_FOR_PRESENTATION,
      sopInstanceUid: sop,
      studyInstanceUid: study ?? derivedUid(`study:${sop}`),
      seriesInstanceUid: series ?? derivedUid(`series:${sop}`),
      derivedStudy: !study || !series,
      patient: {
        name: text(TAG.PatientName),
        id: text(TAG.PatientID),
        sex: text(TAG.PatientSex),
        age: text(TAG.PatientAge),
      },
    },
  };
}
