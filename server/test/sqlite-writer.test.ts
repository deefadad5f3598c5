import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { AuditStore, verifyChain } from '../src/db/audit-store.js';
import type { StoredUpdate } from '../src/db/doc-store.js';
import type { UpdateSink } from '../src/collab/update-writer.js';
import { type SqliteWriter, bySize, startSqliteWriter } from '../src/db/sqlite-writer.js';
import { type Stores, openStores } from '../src/db/stores.js';
import { tempDir } from './helpers/test-server.js';
import { findingEdits } from './helpers/yjs-updates.js';

/**
 * The SQLite writer thread: accepted updates are stored by a worker thread on its own
 * connection while the main connection (Kysely) keeps writing sessions, votes and audit
 * entries. Bad inputs tried: an update for a locked scan, appends after close.
 */
describe('SQLite writer thread', () => {
  let stores: Stores;
  let writer: SqliteWriter;
  let file: string;
  const room = { sessionId: 'thread-session', scanId: 'thread-scan' };

  beforeAll(async () => {
    file = `${tempDir()}/writer.sqlite`;
    stores = await openStores({ sqliteFile: file });
    writer = startSqliteWriter(file, (error) => {
      throw error;
    });
  });
  afterAll(async () => {
    await writer.close();
    await stores.db.close();
  });

  const edits = (count: number) => findingEdits(count, 3);

  it('R-STORE-5, R-AUDIT-9: stores batches in order with senders, readable from the main connection; compaction chains the edits', async () => {
    const updates = edits(20);
    const first = await writer.append(updates.slice(0, 10).map((data) => ({ room, data, userId: 'r1' })));
    const second = await writer.append(updates.slice(10).map((data) => ({ room, data, userId: 'r2' })));
    const seqs = [...first, ...second];
    expect(seqs.every((s) => typeof s === 'number')).toBe(true);
    expect([...seqs].sort((a, b) => Number(a) - Number(b))).toEqual(seqs);

    const loaded = await stores.docs.load(room);
    const doc = new Y.Doc();
    for (const u of loaded.updates) Y.applyUpdate(doc, u);
    const reference = new Y.Doc();
    for (const u of updates) Y.applyUpdate(reference, u);
    expect(doc.getMap('findings').toJSON()).toEqual(reference.getMap('findings').toJSON());

    const pending = await stores.docs.pendingEdits(room);
    expect(pending.map((p) => [p.actor, p.summary.count])).toEqual([
      ['r1', 10],
      ['r2', 10],
    ]);
    await stores.docs.compact(room);
    const entries = await new AuditStore(stores.db.kysely, stores.db.dialect).list(
      room.sessionId,
      room.scanId,
    );
    expect(entries.map((e) => [e.kind, e.actor, (e.payload as { count: number }).count])).toEqual([
      ['edit', 'r1', 10],
      ['edit', 'r2', 10],
    ]);
    expect(entries.map((e) => e.payload)).toEqual(pending.map((p) => p.summary));
    expect(verifyChain(entries)).toEqual({ verified: true });
    expect(await stores.docs.pendingEdits(room)).toEqual([]);
  });

  it('R-STORE-5: the thread and main-connection transactions interleave without failing or breaking the chain', async () => {
    const audit = new AuditStore(stores.db.kysely, stores.db.dialect);
    const chain = { sessionId: 'shared-chain', scanId: 'scan' };
    const updates = edits(200);
    // Both connections write at once: the thread stores updates while the main connection runs
    // read-then-write transactions on the same scan (vote entries, and compactions that read
    // the log and chain its edits).
    const threadSide = (async () => {
      const results = [];
      for (let i = 0; i < updates.length; i += 10) {
        const batch: StoredUpdate[] = updates
          .slice(i, i + 10)
          .map((data) => ({ room: chain, data, userId: 'r1' }));
        results.push(...(await writer.append(batch)));
      }
      return results;
    })();
    // Each main-side transaction reads first and writes after a pause, the pattern that fails
    // (SQLITE_BUSY) when the other connection commits in between a DEFERRED transaction's steps.
    const mainSide = Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const voted = await audit.append(
          [{ ...chain, kind: 'vote-cast', actor: 'r2', payload: { i } }],
          async (tx) => {
            await tx.selectFrom('audit_heads').selectAll().execute();
            await new Promise((resolve) => setTimeout(resolve, 1));
          },
        );
        if (i % 8 === 0) await stores.docs.compact(chain);
        return voted;
      }),
    );
    const [stored, voted] = await Promise.all([threadSide, mainSide]);
    expect(stored).toHaveLength(200);
    expect(stored.every((s) => typeof s === 'number')).toBe(true);
    expect(voted).toHaveLength(40);
    await stores.docs.compact(chain);
    const entries = await audit.list(chain.sessionId, chain.scanId);
    expect(entries.filter((e) => e.kind === 'vote-cast')).toHaveLength(40);
    // The edit entries cover every stored update exactly once, in order.
    const covered = entries
      .filter((e) => e.kind === 'edit')
      .map((e) => e.payload as { fromSeq: number; toSeq: number; count: number });
    expect(covered.reduce((sum, e) => sum + e.count, 0)).toBe(200);
    expect(covered.map((e) => e.fromSeq)).toEqual([...covered.map((e) => e.fromSeq)].sort((a, b) => a - b));
    expect(covered[0]!.fromSeq).toBe(stored[0]);
    expect(covered.at(-1)!.toSeq).toBe(stored.at(-1));
    expect(verifyChain(entries)).toEqual({ verified: true });
  });

  it('R-LOCK-6: refuses panel members’ edits to a scan locked on the main connection; server writes pass', async () => {
    // A scan locked on the main connection, as a lock commits it (no session rows needed here).
    const locked = { sessionId: 'locked-session', scanId: 'locked-scan' };
    const sqlite = stores.db.sqlite!;
    sqlite.pragma('foreign_keys = OFF');
    sqlite
      .prepare('INSERT INTO session_scans (session_id, scan_id, position, locked) VALUES (?, ?, 0, 1)')
      .run(locked.sessionId, locked.scanId);
    sqlite.pragma('foreign_keys = ON');
    const [data] = edits(1);
    const results = await writer.append([
      { room: locked, data: data!, userId: 'r1' },
      { room: locked, data: new Uint8Array([0, 0]), userId: null },
    ]);
    expect(results[0]).toBe('locked');
    expect(typeof results[1]).toBe('number');
  });

  it('R-STORE-5: batches of at least the threshold go to the thread, smaller ones stay on the main connection', async () => {
    const seen: string[] = [];
    const recorder = (name: string): UpdateSink => ({
      append: async (batch) => {
        seen.push(`${name}:${batch.length}`);
        return batch.map(() => 0);
      },
    });
    const sink = bySize(recorder('main'), recorder('thread'), 8);
    const one: StoredUpdate = { room, data: new Uint8Array([0, 0]), userId: null };
    for (const n of [1, 7, 8, 30]) await sink.append(Array(n).fill(one));
    expect(seen).toEqual(['main:1', 'main:7', 'thread:8', 'thread:30']);
  });

  it('refuses appends after close with a clear error', async () => {
    const other = startSqliteWriter(file, () => {});
    await other.append([{ room, data: new Uint8Array([0, 0]), userId: null }]);
    await other.close();
    await expect(other.append([{ room, data: new Uint8Array([0, 0]), userId: null }])).rejects.toThrow(
      'the update writer is closed',
    );
  });
});
