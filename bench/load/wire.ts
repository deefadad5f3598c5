import { type Finding, checkFindingEntry, putFinding } from '@cxr/shared';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/** The image every bench scan has (boxes must fit in it). */
export const IMAGE = { rows: 1000, columns: 800 } as const;
/** The one box each room drags. */
export const FINDING_ID = 'bench-box';

export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;

/** `updatedAt` as lib0 `writeAny` writes an object key: varUint length, then the UTF-8 bytes. */
const MARKER = Buffer.from([9, ...Buffer.from('updatedAt', 'utf8')]);

/** What a y-websocket client sends on open: sync step 1 with an empty state vector. */
export const EMPTY_STEP1 = syncFrame(0, Y.encodeStateVector(new Y.Doc()));
/** The answer of a client that has nothing the other side lacks (light clients, before any move). */
export const EMPTY_STEP2 = syncFrame(1, Y.encodeStateAsUpdate(new Y.Doc()));

/**
 * Every move carries its sequence number as `updatedAt = base + seq` (a millisecond-like
 * timestamp, so it is encoded as a float64 like a real `Date.now()`). `id`: which box moves (the
 * room's one box by default; benches where every reader drags a box of their own pass theirs).
 */
export function findingFor(seq: number, base: number, userId: string, id: string = FINDING_ID): Finding {
  // A box that wanders over the image and always stays inside it.
  const x = 100 + (seq % 400);
  const y = 150 + ((seq * 7) % 500);
  return {
    id,
    labels: ['Cardiomegaly'],
    box: { x_min: x, y_min: y, x_max: x + 150, y_max: y + 120 },
    createdBy: userId,
    updatedBy: userId,
    updatedAt: base + seq,
  };
}

export function syncFrame(subtype: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MSG_SYNC);
  encoding.writeVarUint(encoder, subtype);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

export type AwarenessEntry = readonly [clientId: number, clock: number, stateJson: string];

export function awarenessFrame(entries: readonly AwarenessEntry[]): Uint8Array {
  const inner = encoding.createEncoder();
  encoding.writeVarUint(inner, entries.length);
  for (const [clientId, clock, state] of entries) {
    encoding.writeVarUint(inner, clientId);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, state);
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MSG_AWARENESS);
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(inner));
  return encoding.toUint8Array(encoder);
}

/** Reads the entries of an awareness frame (type byte included). */
export function readAwareness(frame: Uint8Array): AwarenessEntry[] {
  const outer = decoding.createDecoder(frame);
  decoding.readVarUint(outer);
  const decoder = decoding.createDecoder(decoding.readVarUint8Array(outer));
  const count = decoding.readVarUint(decoder);
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push([
      decoding.readVarUint(decoder),
      decoding.readVarUint(decoder),
      decoding.readVarString(decoder),
    ]);
  }
  return entries;
}

/**
 * The move sequence number in a sync frame (update or step 2), found by a byte search for the
 * `updatedAt` key rather than by decoding the update; -1 when the frame holds no move.
 */
export function moveSeqIn(frame: Buffer, base: number): number {
  const at = frame.indexOf(MARKER, 2);
  if (at < 0) return -1;
  const tag = frame[at + MARKER.length];
  const pos = at + MARKER.length + 1;
  if (tag === 123) return frame.readDoubleBE(pos) - base;
  // lib0 writes a number that a float32 holds exactly as one (a multiple of 2^17 at today's
  // epoch milliseconds): one move in every 131,072 ms of base.
  if (tag === 124) return frame.readFloatBE(pos) - base;
  if (tag === 125) {
    const decoder = decoding.createDecoder(frame.subarray(pos));
    return decoding.readVarInt(decoder) - base;
  }
  return -1;
}

/**
 * The exact frames a real client with `clientId` sends when it drags the box `count` times:
 * produced once by a real Y.Doc, then replayed by every light mover (client ids only need to
 * be unique within a document, and every light room's document starts empty).
 */
export function encodeMoveFrames(clientId: number, userId: string, count: number, base: number): Buffer[] {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const frames: Buffer[] = [];
  doc.on('update', (update: Uint8Array) => frames.push(Buffer.from(syncFrame(2, update))));
  const ctx = { userId, image: IMAGE, panel: [userId] };
  for (let seq = 0; seq < count; seq++) {
    const finding = findingFor(seq, base, userId);
    const problem = checkFindingEntry(FINDING_ID, finding, ctx);
    if (problem) throw new Error(`bench finding would be refused: ${problem}`);
    putFinding(doc, finding);
  }
  doc.destroy();
  if (frames.length !== count) throw new Error(`expected ${count} update frames, got ${frames.length}`);
  for (const [seq, frame] of frames.entries()) {
    if (moveSeqIn(frame, base) !== seq) throw new Error(`move ${seq} cannot be found in its own frame`);
  }
  return frames;
}

export interface Presence {
  readonly user: { readonly id: string; readonly name: string; readonly color: string };
  readonly cursor: { readonly x: number; readonly y: number } | null;
}

export function presenceFor(userId: string, index: number): Presence {
  return { user: { id: userId, name: `bench-${index}`, color: '#3b82f6' }, cursor: null };
}

export function cursorAt(move: number): { x: number; y: number } {
  return { x: 200 + ((move * 13) % 400), y: 300 + ((move * 29) % 400) };
}

/**
 * Awareness frames of a cursor client: index 0 is its state on open (clock 1, as a
 * WebsocketProvider whose user was set before connecting), index k + 1 is cursor move k
 * (clock k + 2), with the same JSON a real `Awareness` writes.
 */
export function encodeCursorFrames(clientId: number, presence: Presence, moves: number): Buffer[] {
  const frames: Buffer[] = [Buffer.from(awarenessFrame([[clientId, 1, JSON.stringify(presence)]]))];
  for (let k = 0; k < moves; k++) {
    const state = { ...presence, cursor: cursorAt(k) };
    frames.push(Buffer.from(awarenessFrame([[clientId, k + 2, JSON.stringify(state)]])));
  }
  return frames;
}
