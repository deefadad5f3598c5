import type { RoomKey } from './doc-store.js';

/**
 * A 32-bit number for a scan document (FNV-1a over its session and scan ids), the first column
 * of SQLite's per-room index on the update log (R-STORE-8). With the two text ids as the key
 * (two UUIDs, ~80 bytes an entry), the index grew deep and split often: a commit of 47 updates
 * of 200 rooms wrote 80 pages and took 0.57-0.60 ms; with this number, 52 pages and 0.38-0.41
 * ms; one update of one of 50 rooms 26-28 us instead of 31-32 (a scratch probe of the update
 * transaction on a file). Two rooms may share a number: every query also matches both ids.
 */
export function roomKey(room: RoomKey): number {
  let hash = 0x811c9dc5;
  hash = mix(hash, room.sessionId);
  hash = Math.imul(hash ^ 0, 0x01000193); // a separator, so ("ab", "c") and ("a", "bc") differ
  hash = mix(hash, room.scanId);
  return hash >>> 0;
}

function mix(start: number, text: string): number {
  let hash = start;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}
