import { createHmac, randomBytes } from 'node:crypto';

/**
 * A UID replacement function for {@link deidentify}: the same input always maps to the same
 * `2.25.<decimal>` UID (PS3.5 B.2, UUID-derived), so Study and Series UIDs stay consistent
 * across the files of a study imported with one mapper. The key is random per mapper unless
 * given, so the original UID cannot be recovered by hashing candidates.
 */
export function createUidMapper(key: Uint8Array = randomBytes(32)): (uid: string) => string {
  return (uid: string) => {
    const digest = createHmac('sha256', key).update(uid, 'utf8').digest();
    // 128 bits formatted like a random (version 4, variant 1) UUID, then as one decimal number.
    const b = Buffer.from(digest.subarray(0, 16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    return `2.25.${BigInt(`0x${b.toString('hex')}`).toString(10)}`;
  };
}
