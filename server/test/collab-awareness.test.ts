import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { AwarenessRelay, MAX_CLIENT_IDS_PER_CONNECTION } from '../src/collab/awareness-relay.js';

/** An awareness update as y-protocols writes it: count, then (client id, clock, state JSON). */
function update(...entries: Array<[number, number, unknown]>): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const [clientId, clock, state] of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
  }
  return encoding.toUint8Array(encoder);
}

const alice = { user: { id: 'alice' }, cursor: { x: 1, y: 2 } };
const tabA = {};
const tabB = {};

describe('awareness relay (R-PROTO-7)', () => {
  it('R-PROTO-7: a fresh entry is relayed as sent; an echo with the same or an older clock is dropped', () => {
    const relay = new AwarenessRelay();
    const first = update([7, 1, alice]);
    expect(relay.receive(first, tabA, 'alice')).toBe(first);
    // y-websocket 3 clients send back what they received: the same entry from another tab.
    expect(relay.receive(update([7, 1, alice]), tabB, 'bob')).toBeUndefined();
    expect(relay.receive(update([7, 2, alice]), tabA, 'alice')).toBeDefined();
    expect(relay.receive(update([7, 1, alice]), tabA, 'alice')).toBeUndefined();
    expect(relay.size).toBe(1);
  });

  it('R-PROTO-7: of a mixed update only the fresh entries are relayed, re-encoded', () => {
    const relay = new AwarenessRelay();
    relay.receive(update([7, 5, alice]), tabA, 'alice');
    const mixed = update([7, 3, alice], [8, 1, { user: { id: 'alice' } }]);
    const relayed = relay.receive(mixed, tabA, 'alice');
    expect(relayed).toEqual(update([8, 1, { user: { id: 'alice' } }]));
  });

  it('R-PROTO-7: only the first publisher of a client id may update it, and only with its own user', () => {
    const relay = new AwarenessRelay();
    relay.receive(update([7, 1, alice]), tabA, 'alice');
    expect(relay.receive(update([7, 9, { user: { id: 'mallory' } }]), tabB, 'mallory')).toBeUndefined();
    expect(relay.receive(update([9, 1, { user: { id: 'alice' } }]), tabB, 'mallory')).toBeUndefined();
    expect(relay.receive(update([9, 1, 'not an object']), tabB, 'mallory')).toBeUndefined();
    // A refused state claims nothing: tabB may still publish client 9 with its own user.
    // y-websocket's empty initial state names no one and is allowed.
    expect(relay.receive(update([9, 1, {}]), tabB, 'mallory')).toBeDefined();
    const ids = Array.from({ length: MAX_CLIENT_IDS_PER_CONNECTION + 1 }, (_, i) => 100 + i);
    const accepted = ids.filter((id) => relay.receive(update([id, 1, {}]), tabA, 'alice') !== undefined);
    // tabA already holds client 7.
    expect(accepted).toHaveLength(MAX_CLIENT_IDS_PER_CONNECTION - 1);
  });

  it('R-PROTO-7: a removal (state null) at the same clock is relayed once; release removes what a connection published', () => {
    const relay = new AwarenessRelay();
    relay.receive(update([7, 4, alice]), tabA, 'alice');
    expect(relay.receive(update([7, 4, null]), tabA, 'alice')).toBeDefined();
    expect(relay.receive(update([7, 4, null]), tabA, 'alice')).toBeUndefined();
    relay.receive(update([7, 5, alice]), tabA, 'alice');
    expect(relay.release(tabA)).toEqual(update([7, 6, null]));
    expect(relay.snapshot()).toBeUndefined();
  });

  it('R-PROTO-7: malformed updates throw (the room closes the connection with 4422)', () => {
    const relay = new AwarenessRelay();
    const good = update([7, 1, alice]);
    // Bad inputs tried: cut short inside the state, trailing bytes, too many entries, a fresh
    // state that is not UTF-8 (alone, and after a valid entry), and a state length running past
    // the end of the update (inside a larger buffer, which must not be read into).
    expect(() => relay.receive(good.subarray(0, good.length - 3), tabA, 'alice')).toThrow(RangeError);
    expect(() => relay.receive(Uint8Array.from([...good, 0]), tabA, 'alice')).toThrow(RangeError);
    const many = encoding.createEncoder();
    encoding.writeVarUint(many, 65);
    expect(() => relay.receive(encoding.toUint8Array(many), tabA, 'alice')).toThrow(RangeError);
    const notUtf8 = Uint8Array.from([1, 7, 1, 3, 0xff, 0xfe, 0xfd]);
    expect(() => relay.receive(notUtf8, tabA, 'alice')).toThrow();
    const pair = encoding.createEncoder();
    encoding.writeVarUint(pair, 2);
    encoding.writeUint8Array(pair, good.subarray(1));
    encoding.writeUint8Array(pair, notUtf8.subarray(1));
    expect(() => relay.receive(encoding.toUint8Array(pair), tabA, 'alice')).toThrow(RangeError);
    const backing = new Uint8Array(64);
    backing.set(good);
    expect(() => relay.receive(backing.subarray(0, good.length - 3), tabA, 'alice')).toThrow(RangeError);
    // None of them changed what the room holds, nor claimed a client id for tabA.
    expect(relay.size).toBe(0);
    const ids = Array.from({ length: MAX_CLIENT_IDS_PER_CONNECTION }, (_, i) => 100 + i);
    expect(ids.every((id) => relay.receive(update([id, 1, {}]), tabA, 'alice') !== undefined)).toBe(true);
  });
});
