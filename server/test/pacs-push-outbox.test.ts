import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stores } from '../src/db/stores.js';
import { STORAGE_BACKENDS } from './helpers/storage-backends.js';

/**
 * The SR push outbox's store on every back end (R-PUSH-2, R-PUSH-3): what the reconciliation
 * queues, leases that keep two senders off one row, and rows that stay sent.
 */
for (const backend of STORAGE_BACKENDS) {
  describe(`SR push outbox on ${backend.name}`, () => {
    let stores: Stores;
    let drop: () => Promise<void>;
    let sessionId: string;

    /** Locks a scan at `lockedAt`, as the lock service does (version = previous + 1). */
    const lock = async (scanId: string, version: number, lockedAt: Date) => {
      const locked = await stores.consensus.lock(
        { sessionId, scanId },
        {
          version,
          record: '{}',
          sha256: `sha-${scanId}-${version}`,
          lockedBy: 'm',
          lockedAt: lockedAt.toISOString(),
          metaUpdate: new Uint8Array([0, 0]),
        },
      );
      expect(locked).toBe(true);
    };

    beforeAll(async () => {
      ({ stores, drop } = await backend.open());
      const mod = await stores.users.create({ username: 'mod', passwordHash: 'h', role: 'moderator' });
      for (const id of ['before', 'after', 'unlocked', 'relocked', 'queued'])
        await stores.scans.register({ id, rows: 10, columns: 10, createdBy: null });
      const session = await stores.sessions.create(
        {
          name: 'push',
          moderatorId: mod.id,
          readerIds: [],
          scanIds: ['before', 'after', 'unlocked', 'relocked', 'queued'],
          mode: 'live',
          fusionIouThreshold: 0.4,
        },
        mod.id,
      );
      sessionId = session.id;
    });
    afterAll(async () => {
      await stores.db.close();
      await drop();
    });

    it('R-PUSH-2: the reconciliation queues current locks since pushing began that have no row, nothing else', async () => {
      const t0 = Date.now();
      // Locked before any PACS was configured: never pushed.
      await lock('before', 1, new Date(t0 - 60_000));
      expect(await stores.pacsOutbox.reconcile(t0)).toEqual([]);
      const since = await stores.pacsOutbox.markPushSince(new Date(t0 - 30_000));
      // A second start keeps the first time.
      expect(await stores.pacsOutbox.markPushSince(new Date(t0))).toBe(since);

      await lock('after', 1, new Date(t0 - 1000));
      await lock('queued', 1, new Date(t0 - 1000));
      expect(await stores.pacsOutbox.enqueue({ sessionId, scanId: 'queued', version: 1 }, t0)).toBe(true);
      expect(await stores.pacsOutbox.enqueue({ sessionId, scanId: 'queued', version: 1 }, t0)).toBe(false);
      // Locked then unlocked before anyone queued it: no longer the consensus, not pushed.
      await lock('unlocked', 1, new Date(t0 - 1000));
      expect(await stores.consensus.unlock({ sessionId, scanId: 'unlocked' }, unlockInput(1))).toBe(true);
      // Unlocked and locked again: the current version is queued, not the old one.
      await lock('relocked', 1, new Date(t0 - 2000));
      expect(await stores.consensus.unlock({ sessionId, scanId: 'relocked' }, unlockInput(1))).toBe(true);
      await lock('relocked', 2, new Date(t0 - 500));

      const queued = await stores.pacsOutbox.reconcile(t0);
      expect(queued.map((k) => `${k.scanId}@${k.version}`).sort()).toEqual(['after@1', 'relocked@2']);
      expect(await stores.pacsOutbox.reconcile(t0)).toEqual([]);
      expect(await stores.pacsOutbox.get({ sessionId, scanId: 'after', version: 1 })).toMatchObject({
        state: 'pending',
        attempts: 0,
        lastError: null,
        sentAt: null,
      });
    });

    it('R-PUSH-3: of two senders claiming at once each row goes to one; a lease keeps it until it ends', async () => {
      const now = Date.now();
      const [a, b] = await Promise.all([
        stores.pacsOutbox.claimDue('node-a', now, 10_000, 10),
        stores.pacsOutbox.claimDue('node-b', now, 10_000, 10),
      ]);
      const names = [...a, ...b].map((k) => `${k.scanId}@${k.version}`).sort();
      expect(names).toEqual(['after@1', 'queued@1', 'relocked@2']);
      // Leased rows are not claimable again, and the next due time is the end of the lease.
      expect(await stores.pacsOutbox.claimDue('node-c', now + 1, 10_000, 10)).toEqual([]);
      expect(await stores.pacsOutbox.nextDueAt()).toBe(now + 10_000);
      // After the lease, another node takes them over (its holder died mid-request).
      const taken = await stores.pacsOutbox.claimDue('node-c', now + 10_001, 10_000, 10);
      expect(taken).toHaveLength(3);
      // The old holder's late failure is not recorded over the new holder's lease.
      const after = { sessionId, scanId: 'after', version: 1 };
      await stores.pacsOutbox.markRetry(after, 'node-a', 'late', now + 99);
      await stores.pacsOutbox.markRetry(after, 'node-b', 'late', now + 99);
      expect((await stores.pacsOutbox.get(after))?.attempts).toBe(0);

      await stores.pacsOutbox.markRetry(after, 'node-c', 'POST /studies: connect ECONNREFUSED', now + 5000);
      expect(await stores.pacsOutbox.get(after)).toMatchObject({
        state: 'pending',
        attempts: 1,
        lastError: 'POST /studies: connect ECONNREFUSED',
        nextAttemptAt: now + 5000,
      });
      expect(await stores.pacsOutbox.claimDue('node-c', now + 4999, 10_000, 10)).toEqual([]);
    });

    it('R-PUSH-5: a sent row stays sent: later failures, retries and re-queues leave it alone', async () => {
      const key = { sessionId, scanId: 'queued', version: 1 };
      const sentAt = new Date();
      await stores.pacsOutbox.markSent(key, '2.25.1', sentAt);
      await stores.pacsOutbox.markSent(key, '2.25.1', new Date(sentAt.getTime() + 1000));
      await stores.pacsOutbox.markFailed(key, 'node-c', 'too late');
      await stores.pacsOutbox.markRetry(key, 'node-c', 'too late', 0);
      const row = await stores.pacsOutbox.requeue(key, Date.now());
      expect(row).toMatchObject({
        state: 'sent',
        attempts: 1,
        lastError: null,
        sopInstanceUid: '2.25.1',
        sentAt: sentAt.toISOString(),
      });
      // Never claimed again, however late (node-c holds the others; claiming renews its lease).
      const claimed = await stores.pacsOutbox.claimDue('node-c', Date.now() + 10 ** 9, 10_000, 10);
      expect(claimed.map((k) => k.scanId)).not.toContain('queued');
    });

    it('R-PUSH-7: a failed row re-queued is due now with its attempts kept; a locked version without a row gets one', async () => {
      const key = { sessionId, scanId: 'relocked', version: 2 };
      await stores.pacsOutbox.markFailed(key, 'node-c', 'POST /studies answered 403');
      expect(await stores.pacsOutbox.get(key)).toMatchObject({ state: 'failed', attempts: 1 });
      const now = Date.now();
      expect(await stores.pacsOutbox.requeue(key, now)).toMatchObject({
        state: 'pending',
        attempts: 1,
        lastError: 'POST /studies answered 403',
        nextAttemptAt: now,
      });
      const fresh = { sessionId, scanId: 'before', version: 1 };
      expect(await stores.pacsOutbox.get(fresh)).toBeUndefined();
      expect(await stores.pacsOutbox.requeue(fresh, now)).toMatchObject({ state: 'pending', attempts: 0 });
    });
  });
}

function unlockInput(version: number) {
  return { version, metaUpdate: new Uint8Array([0, 0]) };
}
