import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/** Largest awareness state (JSON text) one client may publish. */
export const MAX_AWARENESS_STATE_CHARS = 4096;
/** Client ids one connection may publish awareness for (a doc has one; a tab pair may relay). */
export const MAX_CLIENT_IDS_PER_CONNECTION = 4;

/** Owner of entries that came from other nodes (their own node checked them). */
export const REMOTE_OWNER: object = Object.freeze({ remote: true });

interface Entry {
  clock: number;
  /** JSON text of the state, or 'null' once removed; kept encoded so relaying costs nothing. */
  stateJson: string;
  owner: object;
}

/**
 * The room's view of awareness (cursors, names). y-websocket 3 clients re-send every
 * awareness update they receive, so most incoming entries are stale echoes: they are dropped
 * by comparing clocks before their state is decoded. Only a connection that first published a
 * client id may update it, and only with a state naming its own user.
 */
export class AwarenessRelay {
  private readonly entries = new Map<number, Entry>();
  private readonly owned = new Map<object, Set<number>>();

  /**
   * Applies an awareness update from `owner`; returns the update to relay (only the fresh
   * entries), or undefined when nothing is new. Throws on a malformed update.
   */
  receive(update: Uint8Array, owner: object, userId: string): Uint8Array | undefined {
    const { count, candidates } = readCandidates(update, (clientId, clock, removal) => {
      const known = this.entries.get(clientId);
      return isNewer(known, clock, removal) && (known === undefined || known.owner === owner);
    });
    // Everything that could refuse the update has run: only now does the room change.
    let fresh: Array<[number, number, string]> | undefined;
    for (const [clientId, clock, stateJson] of candidates) {
      if (stateJson !== 'null' && !stateNamesUser(stateJson, userId)) continue;
      const known = this.entries.get(clientId);
      // Checked again: an earlier entry of this same update may have moved the clock on.
      if (!isNewer(known, clock, stateJson === 'null')) continue;
      if (known === undefined && !this.claim(owner, clientId)) continue;
      this.entries.set(clientId, { clock, stateJson, owner });
      fresh ??= [];
      fresh.push([clientId, clock, stateJson]);
    }
    if (!fresh) return undefined;
    // Every entry new (a client's own move, the usual case): relay the update as it came.
    return fresh.length === count ? update : encodeEntries(fresh);
  }

  /**
   * Applies entries another node already checked (ownership and user): only the clocks are
   * compared. Returns what is new, to relay to this node's clients.
   */
  receiveChecked(update: Uint8Array, owner: object): Uint8Array | undefined {
    const decoder = decoding.createDecoder(update);
    const count = decoding.readVarUint(decoder);
    const fresh: Array<[number, number, string]> = [];
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const stateJson = decoding.readVarString(decoder);
      const known = this.entries.get(clientId);
      if (known && known.owner !== owner) continue;
      if (known && !(clock > known.clock || (clock === known.clock && stateJson === 'null'))) continue;
      if (stateJson === 'null') this.entries.delete(clientId);
      else this.entries.set(clientId, { clock, stateJson, owner });
      fresh.push([clientId, clock, stateJson]);
    }
    return fresh.length > 0 ? encodeEntries(fresh) : undefined;
  }

  /** Removes everything `owner` published; returns the removal update to relay, if any. */
  release(owner: object): Uint8Array | undefined {
    const ids = this.owned.get(owner);
    this.owned.delete(owner);
    if (!ids) return undefined;
    const removed: Array<[number, number, string]> = [];
    for (const clientId of ids) {
      const entry = this.entries.get(clientId);
      if (!entry) continue;
      this.entries.delete(clientId);
      if (entry.stateJson !== 'null') removed.push([clientId, entry.clock + 1, 'null']);
    }
    return removed.length > 0 ? encodeEntries(removed) : undefined;
  }

  /** Every live state, for a newcomer or a query. */
  snapshot(): Uint8Array | undefined {
    const live: Array<[number, number, string]> = [];
    for (const [clientId, entry] of this.entries) {
      if (entry.stateJson !== 'null') live.push([clientId, entry.clock, entry.stateJson]);
    }
    return live.length > 0 ? encodeEntries(live) : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  private claim(owner: object, clientId: number): boolean {
    let ids = this.owned.get(owner);
    if (!ids) {
      ids = new Set();
      this.owned.set(owner, ids);
    }
    if (ids.size >= MAX_CLIENT_IDS_PER_CONNECTION) return false;
    ids.add(clientId);
    return true;
  }
}

/** Whether an entry (`removal`: its state is `null`) is newer than what the room holds. */
function isNewer(known: Entry | undefined, clock: number, removal: boolean): boolean {
  if (known === undefined) return !removal;
  return clock > known.clock || (clock === known.clock && removal && known.stateJson !== 'null');
}

/**
 * Reads a whole update, decoding the state of only the entries `wanted` keeps: most entries
 * are echoes older than what the room holds, and decoding their text was most of what dropping
 * them cost. Any fault (cut short, trailing bytes, too many entries, a wanted state that is
 * not UTF-8) throws a RangeError before the caller has changed anything.
 */
function readCandidates(
  update: Uint8Array,
  wanted: (clientId: number, clock: number, removal: boolean) => boolean,
): { count: number; candidates: Array<[number, number, string]> } {
  const candidates: Array<[number, number, string]> = [];
  let count: number;
  try {
    const decoder = decoding.createDecoder(update);
    count = decoding.readVarUint(decoder);
    if (count > 64) throw new Error('too many awareness entries');
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder);
      const clock = decoding.readVarUint(decoder);
      const stateBytes = decoding.readVarUint8Array(decoder);
      const removal = isNullState(stateBytes);
      if (wanted(clientId, clock, removal))
        candidates.push([clientId, clock, removal ? 'null' : utf8.decode(stateBytes)]);
    }
    if (decoding.hasContent(decoder)) throw new Error('trailing bytes');
  } catch (error) {
    throw new RangeError(`malformed awareness update: ${error instanceof Error ? error.message : error}`);
  }
  return { count, candidates };
}

/**
 * As lib0 decodes strings (fatal, BOM kept), so relayed text is what it was before: a fresh
 * state that is not valid UTF-8 is refused like any other malformed update. A stale one is not
 * decoded at all; it is dropped either way.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `null`, the state y-protocols sends when a client leaves, as its JSON bytes. */
function isNullState(bytes: Uint8Array): boolean {
  return (
    bytes.length === 4 && bytes[0] === 0x6e && bytes[1] === 0x75 && bytes[2] === 0x6c && bytes[3] === 0x6c
  );
}

function stateNamesUser(stateJson: string, userId: string): boolean {
  if (stateJson.length > MAX_AWARENESS_STATE_CHARS) return false;
  let state: unknown;
  try {
    state = JSON.parse(stateJson);
  } catch {
    return false;
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return false;
  // A state without a user (y-websocket's empty initial state) is allowed; a named one must be us.
  const user: unknown = Reflect.get(state, 'user');
  if (user === undefined) return true;
  return typeof user === 'object' && user !== null && Reflect.get(user, 'id') === userId;
}

function encodeEntries(entries: ReadonlyArray<readonly [number, number, string]>): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, entries.length);
  for (const [clientId, clock, stateJson] of entries) {
    encoding.writeVarUint(encoder, clientId);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarString(encoder, stateJson);
  }
  return encoding.toUint8Array(encoder);
}
