import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** y-websocket message types (y-protocols). */
export const MSG_SYNC = 0;
export const MSG_AWARENESS = 1;
export const MSG_AUTH = 2;
export const MSG_QUERY_AWARENESS = 3;

export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

export function syncStep1Frame(stateVector: Uint8Array): Uint8Array {
  return frame(MSG_SYNC, SYNC_STEP1, stateVector);
}

export function syncStep2Frame(update: Uint8Array): Uint8Array {
  return frame(MSG_SYNC, SYNC_STEP2, update);
}

export function syncUpdateFrame(update: Uint8Array): Uint8Array {
  return frame(MSG_SYNC, SYNC_UPDATE, update);
}

export function awarenessFrame(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MSG_AWARENESS);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** An awareness message with no entries: a no-op for clients that keeps their idle timer alive. */
export const KEEPALIVE_FRAME: Uint8Array = awarenessFrame(new Uint8Array([0]));

function frame(type: number, subtype: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  encoding.writeVarUint(encoder, subtype);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

/** A decoded incoming frame; anything else is a protocol error. */
export type IncomingFrame =
  | { kind: 'sync-step1'; stateVector: Uint8Array }
  | { kind: 'update'; update: Uint8Array; step2: boolean }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'query-awareness' };

export type DecodeResult = { ok: true; frame: IncomingFrame } | { ok: false; detail: string };

/** Decodes one frame strictly: known type, lengths within the frame, nothing trailing. */
export function decodeFrame(bytes: Uint8Array): DecodeResult {
  try {
    const decoder = decoding.createDecoder(bytes);
    const type = decoding.readVarUint(decoder);
    let result: IncomingFrame;
    switch (type) {
      case MSG_SYNC: {
        const subtype = decoding.readVarUint(decoder);
        const payload = readBytes(decoder);
        if (subtype === SYNC_STEP1) result = { kind: 'sync-step1', stateVector: payload };
        else if (subtype === SYNC_STEP2 || subtype === SYNC_UPDATE)
          result = { kind: 'update', update: payload, step2: subtype === SYNC_STEP2 };
        else return { ok: false, detail: `unknown sync message ${subtype}` };
        break;
      }
      case MSG_AWARENESS:
        result = { kind: 'awareness', update: readBytes(decoder) };
        break;
      case MSG_QUERY_AWARENESS:
        result = { kind: 'query-awareness' };
        break;
      default:
        return { ok: false, detail: `unknown message type ${type}` };
    }
    if (decoding.hasContent(decoder)) return { ok: false, detail: 'trailing bytes after message' };
    return { ok: true, frame: result };
  } catch {
    return { ok: false, detail: 'malformed frame' };
  }
}

function readBytes(decoder: decoding.Decoder): Uint8Array {
  const length = decoding.readVarUint(decoder);
  if (length > decoder.arr.length - decoder.pos) throw new RangeError('length beyond frame');
  return decoding.readUint8Array(decoder, length);
}
