import { randomUUID } from 'node:crypto';
import { type RedisClientType, createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LiveStores,
  type LiveVote,
  type PresenceEntry,
  createMemoryLiveStores,
} from '../../src/realtime/live-store.js';
import { createRedisLiveStores } from '../../src/realtime/redis-live-store.js';

/** The machine's Redis; every key this file writes is under a fresh prefix, deleted afterwards. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const PRESENCE_TTL_MS = 1_000;

const vote = (overrides: Partial<LiveVote> = {}): LiveVote => ({
  id: `v-${randomUUID()}`,
  sessionId: 's1',
  scanId: 'scan1',
  target: { kind: 'finding', id: 'f1' },
  targetVersion: 'ver-1',
  quorum: 3,
  openedAt: 1_764_000_000_123,
  state: 'open',
  outcome: null,
  overridden: false,
  reason: null,
  closedAt: null,
  seq: 0,
  ballots: {},
  ...overrides,
});

const entry = (connId: string, lastSeen: number, overrides: Partial<PresenceEntry> = {}): PresenceEntry => ({
  connId,
  userId: `u-${connId}`,
  username: `user ${connId}`,
  role: 'reader',
  globalRole: 'reader',
  scanId: null,
  following: true,
  lastSeen,
  ...overrides,
});

let redis: RedisClientType;
const prefix = `test:${randomUUID()}:`;

beforeAll(async () => {
  redis = createClient({ url: REDIS_URL });
  await redis.connect();
});
afterAll(async () => {
  // Only our own keys: never FLUSHALL a Redis other tests share.
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) await redis.del(keys);
  }
  redis.destroy();
});

const backends: Array<[string, () => LiveStores]> = [
  ['memory', () => createMemoryLiveStores({ presenceTtlMs: PRESENCE_TTL_MS, commandTtlMs: 60_000 })],
  [
    'redis',
    () =>
      createRedisLiveStores(redis, {
        prefix: `${prefix}${randomUUID()}:`,
        presenceTtlMs: PRESENCE_TTL_MS,
        commandTtlMs: 60_000,
      }),
  ],
];

describe.each(backends)('live store contract: %s', (_name, make) => {
  it('R-VOTE-2: a cast records one ballot per reader, replaces it on change and is idempotent on retry', async () => {
    const { votes } = make();
    const v = vote();
    expect(await votes.cast(v.id, 'r1', 'agree', 'ver-1')).toEqual({ status: 'missing' });
    await votes.restore(v);
    expect(await votes.get(v.id)).toEqual(v);
    const first = await votes.cast(v.id, 'r1', 'agree', 'ver-1');
    const retry = await votes.cast(v.id, 'r1', 'agree', 'ver-1');
    const changed = await votes.cast(v.id, 'r1', 'disagree', 'ver-1');
    await votes.cast(v.id, 'r2', 'abstain', 'ver-1');
    expect(first).toMatchObject({ status: 'ok', vote: { seq: 1, ballots: { r1: 'agree' } } });
    expect(retry).toMatchObject({ status: 'ok', vote: { seq: 2, ballots: { r1: 'agree' } } });
    expect(changed).toMatchObject({ status: 'ok', vote: { ballots: { r1: 'disagree' } } });
    expect((await votes.get(v.id))?.ballots).toEqual({ r1: 'disagree', r2: 'abstain' });
  });

  it('R-VOTE-2: 500 concurrent casts from 5 readers leave exactly one ballot each and a seq per cast', async () => {
    const { votes } = make();
    const v = vote();
    await votes.restore(v);
    const choices = ['agree', 'disagree', 'abstain'] as const;
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => votes.cast(v.id, `r${i % 5}`, choices[i % 3]!, 'ver-1')),
    );
    const after = await votes.get(v.id);
    expect(Object.keys(after?.ballots ?? {}).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(after?.seq).toBe(500);
  });

  it('R-VOTE-4: a cast against another target version is refused as stale and records nothing', async () => {
    const { votes } = make();
    const v = vote();
    await votes.restore(v);
    expect(await votes.cast(v.id, 'r1', 'agree', 'ver-2')).toMatchObject({ status: 'stale' });
    expect(await votes.cast(v.id, 'r1', 'agree', '')).toMatchObject({ status: 'stale' });
    expect((await votes.get(v.id))?.ballots).toEqual({});
  });

  it('R-VOTE-5: closing decides by quorum from the ballots at that instant; later casts are refused', async () => {
    const { votes } = make();
    const accepted = vote({ quorum: 2 });
    const rejected = vote({ quorum: 3 });
    for (const v of [accepted, rejected]) {
      await votes.restore(v);
      await votes.cast(v.id, 'r1', 'agree', 'ver-1');
      await votes.cast(v.id, 'r2', 'agree', 'ver-1');
      await votes.cast(v.id, 'r3', 'disagree', 'ver-1');
    }
    const close = { mode: 'close' as const, override: null, reason: null, closedAt: 5 };
    expect(await votes.finish(accepted.id, close)).toMatchObject({
      status: 'ok',
      vote: { state: 'closed', outcome: 'accepted', overridden: false, closedAt: 5, seq: 4 },
    });
    expect(await votes.finish(rejected.id, close)).toMatchObject({ vote: { outcome: 'rejected' } });
    expect(await votes.cast(accepted.id, 'r3', 'agree', 'ver-1')).toMatchObject({ status: 'closed' });
    expect(await votes.finish(accepted.id, close)).toMatchObject({ status: 'not_open' });
  });

  it('R-VOTE-6: an override decides against the tally and keeps its reason; a void ends a vote without outcome', async () => {
    const { votes } = make();
    const overridden = vote({ quorum: 1 });
    const voided = vote();
    await votes.restore(overridden);
    await votes.restore(voided);
    await votes.cast(overridden.id, 'r1', 'agree', 'ver-1');
    const override = { outcome: 'rejected' as const, reason: 'box misses the lesion' };
    expect(
      await votes.finish(overridden.id, { mode: 'close', override, reason: null, closedAt: 7 }),
    ).toMatchObject({
      vote: { outcome: 'rejected', overridden: true, reason: 'box misses the lesion' },
    });
    expect(await votes.finish(voided.id, { mode: 'void', reason: 'changed', closedAt: 8 })).toMatchObject({
      status: 'ok',
      vote: { state: 'void', outcome: null, reason: 'changed' },
    });
    expect(await votes.cast(voided.id, 'r1', 'agree', 'ver-1')).toMatchObject({ status: 'void' });
  });

  it('R-VOTE-7: restore writes only when absent, so a rebuild cannot undo a newer state', async () => {
    const { votes } = make();
    const v = vote();
    await votes.restore(v);
    await votes.cast(v.id, 'r1', 'agree', 'ver-1');
    await votes.restore({ ...v, ballots: { r1: 'disagree' } });
    expect((await votes.get(v.id))?.ballots).toEqual({ r1: 'agree' });
    const finished = vote({
      state: 'closed',
      outcome: 'accepted',
      closedAt: 9,
      seq: 4,
      ballots: { r2: 'agree' },
    });
    await votes.restore(finished);
    expect(await votes.get(finished.id)).toEqual(finished);
  });

  it('R-PRES-3: presence lists fresh entries, drops those older than the TTL for good, and removes on leave', async () => {
    const { presence } = make();
    const now = 1_764_000_000_000;
    await presence.upsert('s1', [entry('a', now), entry('b', now - 5_000), entry('c', now, { scanId: 'x' })]);
    expect((await presence.list('s1', now)).map((e) => e.connId).sort()).toEqual(['a', 'c']);
    // b is gone even when asked with an older clock: expired entries are removed, not hidden.
    expect((await presence.list('s1', now - 5_000)).map((e) => e.connId).sort()).toEqual(['a', 'c']);
    await presence.upsert('s1', [entry('a', now + 10, { following: false })]);
    expect((await presence.list('s1', now + 10)).find((e) => e.connId === 'a')?.following).toBe(false);
    await presence.remove('s1', ['a']);
    expect((await presence.list('s1', now)).map((e) => e.connId)).toEqual(['c']);
    expect(await presence.list('other-session', now)).toEqual([]);
  });

  it('R-RT-4: the command cache answers a retried command id', async () => {
    const { commands } = make();
    expect(await commands.recall('u1:vote:open:c1')).toBeUndefined();
    await commands.remember('u1:vote:open:c1', '{"ok":true}');
    expect(await commands.recall('u1:vote:open:c1')).toBe('{"ok":true}');
  });
});
