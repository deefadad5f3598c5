import { createHash } from 'node:crypto';

/**
 * VinDr-CXR's `image_id` is the MD5 hex of the original SOP Instance UID. Its released files
 * carry no UID, so a file without one keeps its file name's stem: imported VinDr-CXR files then
 * keep their published ids and their CSV labels join.
 */
export function imageIdFromUid(sopInstanceUid: string | undefined, fileName?: string): string | undefined {
  if (sopInstanceUid) return createHash('md5').update(sopInstanceUid, 'ascii').digest('hex');
  if (fileName === undefined) return undefined;
  return fileStemId(fileName);
}

/** Ids end up in URLs and CSVs, so stems with other characters are hashed instead. */
const SAFE_STEM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * "dir/000434271f63a181e2db0b4b06cbc2e6.dicom" -> "000434271f63a181e2db0b4b06cbc2e6". A stem
 * that is empty or has unsafe characters becomes the MD5 of the base name instead.
 */
export function fileStemId(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  if (SAFE_STEM.test(stem)) return stem;
  return createHash('md5').update(base, 'utf8').digest('hex');
}
