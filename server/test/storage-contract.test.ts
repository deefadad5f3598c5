import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_BACKENDS } from './helpers/storage-backends.js';
import * as Y from 'yjs';
import type { UpdateSink } from '../src/collab/update-writer.js';
import { AuditStore, verifyChain } from '../src/db/audit-store.js';
import { sqliteUpdateSink } from '../src/db/sqlite-update-sink.js';
import type { Stores } from '../src/db/stores.js';
import { liveDb } from '../src/db/live-tables.js';
import { STILL_OPEN, VotesStore, type VoteRecord } from '../src/db/votes-store.js';

/**
 * One contract for every storage back end: SQLite (embedded default) and PostgreSQL
 * (DATABASE_URL). Each case runs against both.
 */
const backends = STORAGE_BACKENDS;

describe.each(backends)('storage contract: $name', ({ open }) => {
  let stores: Stores;
  let drop: () => Promise<void>;
  const room = { sessionId: 's1', scanId: 'scan-1' };

  beforeAll(async () => {
    ({ stores, drop } = await open());
  });
  afterAll(async () => {
    await stores.db.close();
    await drop();
  });

  it('R-VOTE-4: one read lists every scan with an open vote, and only those', async () => {
    const votes = new VotesStore(stores.db.kysely);
    const vote = (id: string, sessionId: string, scanId: string, key: string): VoteRecord => ({
      id,
      sessionId,
      scanId,
      target: { kind: 'finding', id: key },
      targetKey: `finding:${key}`,
      targetVersion: 'v1',
      quorum: 2,
      openedBy: 'mod',
      openedAt: Date.now(),
      ...STILL_OPEN,
    });
    expect(await votes.scansWithOpenVotes()).toEqual(new Set());
    const live = liveDb(stores.db.kysely);
    await live.transaction().execute(async (tx) => {
      expect(await votes.insertOpen(tx, vote('v-a1', 'sv', 'scan-a', 'f1'))).toBe(true);
      expect(await votes.insertOpen(tx, vote('v-a2', 'sv', 'scan-a', 'f2'))).toBe(true);
      expect(await votes.insertOpen(tx, vote('v-b1', 'sv', 'scan-b', 'f1'))).toBe(true);
      expect(await votes.insertOpen(tx, vote('v-c1', 'sw', 'scan-a', 'f1'))).toBe(true);
    });
    expect(await votes.scansWithOpenVotes()).toEqual(new Set(['sv/scan-a', 'sv/scan-b', 'sw/scan-a']));
    // Closed and voided votes no longer count; a scan with one still open does.
    await live.transaction().execute(async (tx) => {
      const done = { outcome: null, overridden: false, reason: null, closedAt: Date.now() };
      expect(await votes.finish(tx, 'v-a1', { ...done, state: 'void' })).toBe(true);
      expect(await votes.finish(tx, 'v-b1', { ...done, state: 'closed', outcome: 'accepted' })).toBe(true);
    });
    expect(await votes.scansWithOpenVotes()).toEqual(new Set(['sv/scan-a', 'sw/scan-a']));
  });

  it('R-STORE-1: users are created once per username and read back', async () => {
    const user = await stores.users.create({ username: 'alice', passwordHash: 'h', role: 'reader' });
    expect(await stores.users.byUsername('alice')).toMatchObject({
      id: user.id,
      role: 'reader',
      passwordHash: 'h',
    });
    expect(await stores.users.byId(user.id)).toMatchObject({ username: 'alice', disabled: false });
    await expect(
      stores.users.create({ username: 'alice', passwordHash: 'x', role: 'admin' }),
    ).rejects.toThrow();
    expect(await stores.users.count()).toBe(1);
  });

  it('R-STORE-2: sessions keep panel and scan order; membership is answered per session', async () => {
    const mod = await stores.users.create({ username: 'mod', passwordHash: 'h', role: 'moderator' });
    const r1 = await stores.users.create({ username: 'r1', passwordHash: 'h', role: 'reader' });
    const r2 = await stores.users.create({ username: 'r2', passwordHash: 'h', role: 'reader' });
    for (const id of ['b', 'a', 'c'])
      await stores.scans.register({ id, rows: 10, columns: 20, createdBy: null });
    expect(await stores.scans.register({ id: 'a', rows: 1, columns: 1, createdBy: null })).toBe(false);
    expect(await stores.scans.missing(['a', 'zz'])).toEqual(['zz']);
    const session = await stores.sessions.create(
      {
        name: 'S',
        moderatorId: mod.id,
        readerIds: [r2.id, r1.id],
        scanIds: ['c', 'a', 'b'],
        mode: 'blind',
        fusionIouThreshold: 0.45,
      },
      mod.id,
    );
    expect(session).toMatchObject({ mode: 'blind', stage: 'blind', fusionIouThreshold: 0.45 });
    expect(await stores.sessions.reveal(session.id)).toBe(true);
    expect(await stores.sessions.reveal(session.id)).toBe(false);
    expect((await stores.sessions.get(session.id))?.stage).toBe('consensus');
    expect(session.readerIds).toEqual([r2.id, r1.id]);
    expect(session.scans.map((s) => s.scanId)).toEqual(['c', 'a', 'b']);
    expect(await stores.sessions.panelRole(session.id, mod.id)).toBe('moderator');
    expect(await stores.sessions.panelRole(session.id, r1.id)).toBe('reader');
    expect(await stores.sessions.panelRole(session.id, 'nobody')).toBeUndefined();
    expect(await stores.sessions.userCanSeeScan(r1.id, 'a')).toBe(true);
    expect(await stores.sessions.userCanSeeScan(r1.id, 'zz')).toBe(false);
    expect(await stores.sessions.listIds(r1.id, false)).toEqual([session.id]);
    expect(await stores.sessions.scanState(session.id, 'a')).toMatchObject({
      rows: 10,
      columns: 20,
      locked: false,
    });
  });

  it('R-STORE-3: appended updates come back in order; compaction keeps the exact state', async () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 30; i++) doc.getMap('findings').set(`k${i % 7}`, { i });
    const seqs = await stores.docs.append(updates.map((data) => ({ room, data, userId: 'u1' })));
    const numbers = seqs.map(Number);
    expect(numbers.every((n) => Number.isInteger(n))).toBe(true);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    const loaded = await stores.docs.load(room);
    expect(loaded.updates.length).toBe(30);
    expect(loaded.lastSeq).toBe(seqs[seqs.length - 1]);
    const restored = new Y.Doc();
    for (const u of loaded.updates) Y.applyUpdate(restored, u);
    expect(restored.getMap('findings').toJSON()).toEqual(doc.getMap('findings').toJSON());

    expect(await stores.docs.compact(room)).toEqual({ compacted: 30 });
    doc.getMap('findings').set('after', { i: 99 });
    await stores.docs.append([{ room, data: updates[updates.length - 1]!, userId: 'u1' }]);
    const compacted = await stores.docs.load(room);
    expect(compacted.snapshot).toBeDefined();
    expect(compacted.logLength).toBe(1);
    const again = new Y.Doc();
    Y.applyUpdate(again, compacted.snapshot!);
    for (const u of compacted.updates) Y.applyUpdate(again, u);
    expect(again.getMap('findings').toJSON()).toEqual(doc.getMap('findings').toJSON());
    expect(again.getMap('findings').has('after')).toBe(true);
  });

  it('R-STORE-3: compaction drops overwritten values, so a dragged box does not grow the snapshot', async () => {
    const dragged = { sessionId: 's1', scanId: 'dragged' };
    const a = new Y.Doc();
    const b = new Y.Doc();
    const pending: Uint8Array[] = [];
    a.on('update', (u: Uint8Array) => pending.push(u));
    b.on('update', (u: Uint8Array) => pending.push(u));
    const note = 'x'.repeat(400);
    // Two compactions of 300 moves each, from two writers: the second merges the first's snapshot.
    for (const round of [0, 1]) {
      for (let i = 0; i < 300; i++) {
        const doc = i % 3 === 0 ? b : a;
        doc.getMap('findings').set(i % 3 === 0 ? 'b-box' : 'a-box', { x: round * 1000 + i, note });
      }
      await stores.docs.append(pending.splice(0).map((data) => ({ room: dragged, data, userId: 'u1' })));
      await stores.docs.compact(dragged);
    }
    const loaded = await stores.docs.load(dragged);
    expect(loaded.updates).toHaveLength(0);
    // 600 values of over 400 bytes were written; two are alive.
    expect(loaded.snapshot!.byteLength).toBeLessThan(4 * 1024);
    const restored = new Y.Doc();
    Y.applyUpdate(restored, loaded.snapshot!);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    expect(restored.getMap('findings').toJSON()).toEqual(a.getMap('findings').toJSON());
    expect(restored.getMap('findings').get('a-box')).toEqual({ x: 1299, note });
  });

  it('R-STORE-4: a batch is all or nothing', async () => {
    const before = await stores.docs.load({ sessionId: 's2', scanId: 'x' });
    const bad = { room: { sessionId: 's2', scanId: 'x' }, data: null as unknown as Uint8Array, userId: null };
    const good = { room: { sessionId: 's2', scanId: 'x' }, data: new Uint8Array([0, 0]), userId: null };
    await expect(stores.docs.append([good, bad])).rejects.toThrow();
    expect((await stores.docs.load({ sessionId: 's2', scanId: 'x' })).updates.length).toBe(
      before.updates.length,
    );
  });

  it('R-LOCK-5: only one lock wins; records are immutable versions', async () => {
    const session = (await stores.sessions.listIds('', true))[0]!;
    const key = { sessionId: session, scanId: 'a' };
    const input = (sha: string) => ({
      version: 1,
      record: '{}',
      sha256: sha,
      lockedBy: 'm',
      lockedAt: new Date().toISOString(),
      metaUpdate: new Uint8Array([0, 0]),
    });
    const results = await Promise.allSettled([
      stores.consensus.lock(key, input('one')),
      stores.consensus.lock(key, input('two')),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled' && r.value === true);
    expect(won.length).toBe(1);
    expect((await stores.sessions.scanState(session, 'a'))?.locked).toBe(true);
    const latest = await stores.consensus.latest(key);
    expect(latest?.version).toBe(1);
    expect(['one', 'two']).toContain(latest?.sha256);
  });
  it('R-LOCK-6: once a scan is locked, the database refuses panel members’ edits (server writes pass)', async () => {
    const session = (await stores.sessions.listIds('', true))[0]!;
    const key = { sessionId: session, scanId: 'a' };
    const results = await stores.docs.append([
      { room: key, data: new Uint8Array([0, 0]), userId: 'u1' },
      { room: key, data: new Uint8Array([0, 0]), userId: null },
    ]);
    expect(results[0]).toBe('locked');
    expect(typeof results[1]).toBe('number');
  });

  it('R-AUDIT-9: updates are stored with their senders; each compaction chains one edit entry per member', async () => {
    const audit = new AuditStore(stores.db.kysely, stores.db.dialect);
    // SQLite uses prepared statements on its connection; PostgreSQL the Kysely path.
    const sink: UpdateSink = stores.db.sqlite
      ? sqliteUpdateSink(stores.db.sqlite)
      : { append: (batch) => stores.docs.append(batch) };
    const open = { sessionId: 'sink-session', scanId: 'sink-scan' };
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 10; i++) doc.getMap('findings').set('k', { i });
    const results = await sink.append([
      ...updates.slice(0, 5).map((data) => ({ room: open, data, userId: 'writer' })),
      { room: open, data: new Uint8Array([0, 0]), userId: null },
      ...updates.slice(5, 7).map((data) => ({ room: open, data, userId: 'second' })),
    ]);
    expect(results.every((r) => typeof r === 'number')).toBe(true);
    const seqs = results as number[];

    // Not yet compacted: listed as pending, not in the chain. The server's own write is no edit.
    const pending = await stores.docs.pendingEdits(open);
    expect(pending.map((p) => [p.actor, p.summary.count, p.summary.fromSeq, p.summary.toSeq])).toEqual([
      ['writer', 5, seqs[0], seqs[4]],
      ['second', 2, seqs[6], seqs[7]],
    ]);
    expect(await audit.list(open.sessionId, open.scanId)).toEqual([]);

    await stores.docs.compact(open);
    let entries = await audit.list(open.sessionId, open.scanId);
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ['edit', 'writer'],
      ['edit', 'second'],
    ]);
    expect(entries.map((e) => e.payload)).toEqual(pending.map((p) => p.summary));
    // The digest covers the member's updates in order, each as a 4-byte length and its bytes.
    const digest = createHash('sha256');
    for (const u of updates.slice(0, 5)) digest.update(Buffer.from([0, 0, 0, u.byteLength])).update(u);
    expect((entries[0]!.payload as { sha256: string }).sha256).toBe(digest.digest('hex'));
    expect((entries[0]!.payload as { bytes: number }).bytes).toBe(
      updates.slice(0, 5).reduce((n, u) => n + u.byteLength, 0),
    );
    expect(await stores.docs.pendingEdits(open)).toEqual([]);

    // A room compacting from its own state chains the same way.
    const later = (await sink.append(
      updates.slice(7).map((data) => ({ room: open, data, userId: 'writer' })),
    )) as number[];
    const full = Y.encodeStateAsUpdate(doc);
    expect(await stores.docs.compactWith(open, full, later.at(-1)!)).toEqual({ compacted: 3 });
    entries = await audit.list(open.sessionId, open.scanId);
    expect(entries.map((e) => [e.actor, (e.payload as { count: number }).count])).toEqual([
      ['writer', 5],
      ['second', 2],
      ['writer', 3],
    ]);
    expect(verifyChain(entries)).toEqual({ verified: true });

    // An older state never replaces a snapshot that covers more of the log.
    const older = new Y.Doc();
    for (const u of updates.slice(0, 8)) Y.applyUpdate(older, u);
    expect(await stores.docs.compactWith(open, Y.encodeStateAsUpdate(older), later[0]!)).toEqual({
      compacted: 0,
    });
    const loaded = await stores.docs.load(open);
    const restored = new Y.Doc();
    if (loaded.snapshot) Y.applyUpdate(restored, loaded.snapshot);
    expect(restored.getMap('findings').toJSON()).toEqual({ k: { i: 9 } });

    const session = (await stores.sessions.listIds('', true))[0]!;
    const refused = await sink.append([
      { room: { sessionId: session, scanId: 'a' }, data: updates[0]!, userId: 'w' },
    ]);
    expect(refused).toEqual(['locked']);
  });
});
