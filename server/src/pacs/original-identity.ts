import type { DataSet } from 'dicom-parser';
import { TextDecoder } from 'node:util';
import type { OriginalIdentity } from '../export/export-service.js';
import { ORIGINAL_PATIENT, ORIGINAL_STUDY } from '../export/sr-writer.js';
import { parseDicomBytes } from '../dicom/parse.js';
import { TAG, parserKey } from '../dicom/tags.js';

/**
 * The original identity of an instance retrieved from the PACS, before de-identification: its
 * UIDs and the patient and study attributes the SR push writes back (R-PUSH-4). Undefined when
 * it has no Study/Series/SOP Instance UID to be filed under (the push then references the
 * de-identified image, as for an upload).
 */
export function originalIdentity(bytes: Uint8Array): OriginalIdentity | undefined {
  const parsed = parseDicomBytes(bytes);
  if (!parsed.ok) return undefined;
  const ds = parsed.value.dataSet;
  const decode = textDecoder(ds);
  const text = (tag: number): string | undefined => {
    const el = ds.elements[parserKey(tag)];
    if (!el || el.length === 0) return undefined;
    const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
    const value = decode
      .decode(raw)
      .replace(/[\0 ]+$/, '')
      .trim();
    return value === '' ? undefined : value;
  };
  const uid = (tag: number) => text(tag)?.replace(/[^0-9.]/g, '');
  const studyInstanceUid = uid(TAG.StudyInstanceUID);
  const seriesInstanceUid = uid(TAG.SeriesInstanceUID);
  const sopInstanceUid = uid(TAG.SOPInstanceUID);
  const sopClassUid = uid(TAG.SOPClassUID);
  if (!studyInstanceUid || !seriesInstanceUid || !sopInstanceUid || !sopClassUid) return undefined;
  const pick = (keywords: readonly string[]) => {
    const out: Record<string, string> = {};
    for (const keyword of keywords) {
      const value = text(TAG[keyword as keyof typeof TAG]);
      if (value !== undefined) out[keyword] = value;
    }
    return out;
  };
  return {
    studyInstanceUid,
    seriesInstanceUid,
    sopInstanceUid,
    sopClassUid,
    patient: pick(ORIGINAL_PATIENT),
    study: pick(ORIGINAL_STUDY),
  };
}

/** Decodes by the file's Specific Character Set: UTF-8 (ISO_IR 192), else Latin-1 (a superset of ASCII). */
function textDecoder(ds: DataSet): TextDecoder {
  const charset = ds.string(parserKey(TAG.SpecificCharacterSet)) ?? '';
  return new TextDecoder(/ISO_IR 192/i.test(charset) ? 'utf-8' : 'latin1');
}
