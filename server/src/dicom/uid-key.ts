import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The secret key of the UID mapper, kept in `<dataDir>/dicom-uid-key` (owner-only). Persisted so
 * that files of one study imported on different days (or by the CLI and the server) get the
 * same replacement Study and Series UIDs; secret so nobody can map a replacement back to an
 * original UID by hashing candidates.
 */
export function loadUidKey(dataDir: string): Uint8Array {
  const file = path.join(dataDir, 'dicom-uid-key');
  fs.mkdirSync(dataDir, { recursive: true });
  const read = () => new Uint8Array(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url'));
  try {
    return read();
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
  const key = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, key.toString('base64url'), { mode: 0o600 });
  try {
    // A hard link appears complete or not at all, and fails if another process won the race.
    fs.linkSync(tmp, file);
  } catch (error) {
    if (isCode(error, 'EEXIST')) return read();
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return new Uint8Array(key);
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
