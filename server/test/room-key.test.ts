import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { openDb } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { roomKey } from '../src/db/room-key.js';
import { sqliteUpdateTransaction } from '../src/db/sqlite-update-sink.js';
import { type Stores, openStores } from '../src/db/stores.js';
import { tempDir } from './helpers/test-server.js';
import { findingEdits } from './helpers/yjs-updates.js';

/**
 * R-STORE-8: on SQLite the update log is indexed by a 32-bit number per room. Bad inputs tried:
 * two rooms whose numbers collide, ids that only differ in where one ends and the other
 * starts, a database upgraded from before the number with a log in it.
 */
describe('the update log by room number (SQLite)', () => {
  const opened: Stores[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.db.close();
  });

  const edits = (count: number) => findingEdits(count, 4);

  function stateOf(updates: readonly Uint8Array[]) {
    const doc = new Y.Doc();
    for (const u of updates) Y.applyUpdate(doc, u);
    return doc.getMap('findings').toJSON();
  }

  it('R-STORE-8: the number is stable and tells the two ids apart', () => {
    const room = { sessionId: 'ab', scanId: 'c' };
    expect(roomKey(room)).toBe(roomKey({ ...room }));
    expect(roomKey(room)).not.toBe(roomKey({ sessionId: 'a', scanId: 'bc' }));
    expect(Number.isInteger(roomKey(room)) && roomKey(room) >= 0 && roomKey(room) < 2 ** 32).toBe(true);
  });

  it('R-STORE-8: two rooms with the same number keep their own logs', async () => {
    // A birthday search over fixed, scattered ids (the first pair is found at the 130,200th).
    // Ids counted up one by one hardly collide under FNV-1a.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; i < 300_000 && !pair; i++) {
      const id = `session-${((i * 2654435761) >>> 0).toString(16)}`;
      const key = roomKey({ sessionId: id, scanId: 'x' });
      const earlier = seen.get(key);
      if (earlier) pair = [earlier, id];
      else seen.set(key, id);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!.map((sessionId) => ({ sessionId, scanId: 'x' }));
    expect(roomKey(a!)).toBe(roomKey(b!));

    const stores = await openStores({ sqliteFile: `${tempDir()}/collide.sqlite` });
    opened.push(stores);
    const store = sqliteUpdateTransaction(stores.db.sqlite!);
    const updates = edits(8);
    store(updates.slice(0, 4).map((data) => ({ room: a!, data, userId: 'r1' })));
    await stores.docs.append(updates.slice(4).map((data) => ({ room: b!, data, userId: 'r2' })));
    expect((await stores.docs.load(a!)).logLength).toBe(4);
    expect((await stores.docs.load(b!)).logLength).toBe(4);
    expect((await stores.docs.pendingEdits(b!)).map((p) => p.actor)).toEqual(['r2']);

    expect(await stores.docs.compact(a!)).toEqual({ compacted: 4 });
    expect((await stores.docs.load(a!)).logLength).toBe(0);
    const other = await stores.docs.load(b!);
    expect(other.logLength).toBe(4);
    expect(stateOf(other.updates)).toEqual(stateOf(updates.slice(4)));
  });

  it('R-STORE-8: a database from before the number gets it for its whole log', async () => {
    const file = `${tempDir()}/upgrade.sqlite`;
    const rooms = [
      { sessionId: 'old-session', scanId: 'scan-1' },
      { sessionId: 'old-session', scanId: 'scan-2' },
    ];
    const updates = edits(6);
    const old = await openDb({ sqliteFile: file });
    await migrate(old.kysely, old.dialect, undefined, '0004_blind_stage');
    await old.kysely
      .insertInto('doc_updates')
      .values(
        updates.slice(0, 4).map((data, i) => ({
          session_id: rooms[i % 2]!.sessionId,
          scan_id: rooms[i % 2]!.scanId,
          data,
          user_id: 'r1',
          created_at: new Date().toISOString(),
        })),
      )
      .execute();
    await old.close();

    const stores = await openStores({ sqliteFile: file });
    opened.push(stores);
    const db = stores.db.sqlite!;
    expect(db.prepare('SELECT scan_id, room_key FROM doc_updates ORDER BY seq').all()).toEqual(
      [0, 1, 2, 3].map((i) => ({ scan_id: rooms[i % 2]!.scanId, room_key: roomKey(rooms[i % 2]!) })),
    );
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'doc_updates'")
      .all();
    expect(indexes).toEqual([{ name: 'doc_updates_room_key' }]);

    const store = sqliteUpdateTransaction(db);
    expect(store(updates.slice(4).map((data) => ({ room: rooms[0]!, data, userId: 'r1' })))).toEqual([5, 6]);
    const loaded = await stores.docs.load(rooms[0]!);
    expect(loaded.logLength).toBe(4);
    expect(stateOf(loaded.updates)).toEqual(stateOf([updates[0]!, updates[2]!, updates[4]!, updates[5]!]));
  });
});
