import { randomUUID } from 'node:crypto';
import { type Finding, type Vote, type VoteChoice, putFinding } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.js';
import { prng } from '../helpers/prng.js';
import {
  Api,
  PG_URL,
  type Panel,
  createPanel,
  pgSchemaName,
  startTestServer,
} from '../helpers/test-server.js';
import { TestClient, until } from '../helpers/yjs-client.js';
import { LiveClient, TestRedis, cmd } from './live-client.js';

const VOTES = 10;

/** Retries a command while it is refused as `unavailable` (what a client does after a restart). */
async function untilOk<T extends { ok: boolean }>(
  send: () => Promise<T>,
  timeoutMs = 10_000,
): Promise<T & { ok: true }> {
  const started = Date.now();
  for (;;) {
    const ack = await send();
    if (ack.ok) return ack as T & { ok: true };
    if (Date.now() - started > timeoutMs) throw new Error(`still failing: ${JSON.stringify(ack)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const CASTS = 1_000;
const CHOICES: readonly VoteChoice[] = ['agree', 'disagree', 'abstain'];

/**
 * The Redis back end against a real server, a private redis-server (so it can be killed and
 * restarted) and PostgreSQL: concurrent voting, retries, and losing Redis mid-session.
 */
describe('live panel on Redis', () => {
  let redis: TestRedis;
  let server: RunningServer;
  let panel: Panel;
  let scanId: string;
  let writer: TestClient;
  let moderator: LiveClient;
  let observer: LiveClient;
  let readers: LiveClient[];
  const voteIds: string[] = [];
  /** What each reader last chose on each vote, as acknowledged. */
  const expected = new Map<string, Map<string, VoteChoice>>();

  const expectedTally = (voteId: string) => {
    const tally = { agree: 0, disagree: 0, abstain: 0 };
    for (const choice of expected.get(voteId)?.values() ?? []) tally[choice]++;
    return tally;
  };

  beforeAll(async () => {
    redis = await TestRedis.start();
    server = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `t${randomUUID().slice(0, 8)}:`,
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: pgSchemaName(),
      PRESENCE_HEARTBEAT_MS: '200',
      PRESENCE_TTL_MS: '1500',
    });
    expect(server.realtime.backend).toBe('redis');
    panel = await createPanel(server, { readers: 5 });
    scanId = panel.scanIds[0]!;
    writer = new TestClient(server.url, panel.sessionId, scanId, panel.readers[0]!.token);
    await until(() => writer.synced, 5000, 'yjs sync');
    for (let i = 0; i < VOTES; i++) {
      const finding: Finding = {
        id: `f${i}`,
        labels: ['Atelectasis'],
        box: { x_min: i, y_min: 1, x_max: i + 20, y_max: 30 },
        createdBy: panel.readers[0]!.id,
        updatedBy: panel.readers[0]!.id,
        updatedAt: 1,
      };
      putFinding(writer.doc, finding);
    }
    moderator = await LiveClient.open(server.url, {
      token: panel.moderator.token,
      sessionId: panel.sessionId,
    });
    observer = await LiveClient.open(server.url, { token: panel.admin.token, sessionId: panel.sessionId });
    readers = await Promise.all(
      panel.readers.map((r) => LiveClient.open(server.url, { token: r.token, sessionId: panel.sessionId })),
    );
    for (let i = 0; i < VOTES; i++) {
      const target = { kind: 'finding' as const, id: `f${i}` };
      const started = Date.now();
      for (;;) {
        const ack = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
        if (ack.ok) {
          voteIds.push(String((ack.vote as Vote).id));
          break;
        }
        // The findings reach the server asynchronously.
        if (ack.error.code !== 'not_found' || Date.now() - started > 5000)
          throw new Error(JSON.stringify(ack));
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });

  afterAll(async () => {
    for (const c of [moderator, observer, ...readers]) c?.close();
    writer?.destroy();
    await server?.close();
    await redis?.stop();
  });

  it('R-VOTE-2 R-VOTE-8: 5 readers cast 1,000 votes concurrently (with retries and duplicates): tallies exact everywhere', async () => {
    const random = prng(20261126);
    // Casts are grouped per (reader, vote) and sent in order within a group (a reader changing
    // their mind), while all groups run at once: the server sees heavy interleaving.
    const chains = new Map<
      string,
      Array<{ reader: number; voteId: string; choice: VoteChoice; commandId: string }>
    >();
    for (let i = 0; i < CASTS; i++) {
      const reader = i % 5;
      const voteId = random.pick(voteIds);
      const key = `${reader}/${voteId}`;
      chains.set(key, [
        ...(chains.get(key) ?? []),
        { reader, voteId, choice: random.pick(CHOICES), commandId: cmd() },
      ]);
    }
    let duplicates = 0;
    const started = performance.now();
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const cast of chain) {
          const client = readers[cast.reader]!;
          const payload = { commandId: cast.commandId, voteId: cast.voteId, choice: cast.choice };
          // Every 7th cast is sent twice at once, as a client retrying after a lost ack would.
          const sends = [client.send('vote:cast', payload)];
          if (random.int(7) === 0) {
            sends.push(client.send('vote:cast', payload));
            duplicates++;
          }
          for (const ack of await Promise.all(sends)) expect(ack).toMatchObject({ ok: true });
          const byReader = expected.get(cast.voteId) ?? new Map<string, VoteChoice>();
          byReader.set(panel.readers[cast.reader]!.id, cast.choice);
          expected.set(cast.voteId, byReader);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `[live] ${CASTS} casts (+${duplicates} duplicate sends) in ${seconds.toFixed(2)} s: ${Math.round(CASTS / seconds)} casts/s`,
    );

    // A late retry of an acknowledged cast is answered from the command cache, not re-counted.
    const [firstChain] = chains.values();
    const replay = firstChain![0]!;
    expect(
      await readers[replay.reader]!.send('vote:cast', {
        commandId: replay.commandId,
        voteId: replay.voteId,
        choice: replay.choice,
      }),
    ).toMatchObject({ ok: true });

    const listed = await moderator.send('vote:list', { scanId });
    if (!listed.ok) throw new Error(JSON.stringify(listed));
    const votes = listed.votes as Vote[];
    for (const voteId of voteIds) {
      expect(votes.find((v) => v.id === voteId)?.tally).toEqual(expectedTally(voteId));
    }
    // Every client converges on the same tallies (the update with the highest seq wins).
    await until(
      () =>
        voteIds.every(
          (id) => JSON.stringify(observer.votes.get(id)?.tally) === JSON.stringify(expectedTally(id)),
        ),
      5000,
      'observer tallies',
    );

    const audit = await new Api(server.url, panel.admin.token).call(
      'GET',
      `/api/sessions/${panel.sessionId}/scans/${scanId}/audit`,
    );
    const entries = audit.body.entries as Array<{ kind: string }>;
    expect(audit.body.verified).toBe(true);
    // Retries and duplicates were answered, not logged twice: one entry per distinct cast.
    expect(entries.filter((e) => e.kind === 'vote-cast')).toHaveLength(CASTS);
  });

  it('R-VOTE-8 R-PRES-4: Redis restarted mid-session: no acknowledged vote is lost and presence is back within seconds', async () => {
    const before = new Map(voteIds.map((id) => [id, expectedTally(id)]));
    await redis.stop();
    // While Redis is away, commands are refused as retryable, never half-done.
    const during = await readers[0]!.send('vote:cast', {
      commandId: cmd(),
      voteId: voteIds[0]!,
      choice: 'agree',
    });
    expect(during).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    await redis.restart();
    const restartedAt = Date.now();

    // Presence: every node re-adds its sockets on the next heartbeat; a client joining now
    // (whose view comes only from the refilled store) sees the whole panel online.
    const late = await LiveClient.open(server.url, { token: panel.admin.token, sessionId: panel.sessionId });
    try {
      await until(
        () => [panel.moderator, ...panel.readers].every((r) => late.member(r.id)?.online === true),
        10_000,
        'presence after the restart',
      );
    } finally {
      late.close();
    }
    console.info(`[live] presence back ${Date.now() - restartedAt} ms after the Redis restart`);

    // Votes: the empty Redis is refilled from the database log on first use. Until the server's
    // Redis client has reconnected, commands are acked `unavailable` and the client retries.
    const listed = await untilOk(() => moderator.send('vote:list', { scanId }));
    for (const vote of listed.votes as Vote[]) expect(vote.tally).toEqual(before.get(vote.id));

    // Voting goes on where it was; a cast after the restart counts once.
    const voteId = voteIds[1]!;
    const reader = panel.readers[2]!.id;
    const ack = await readers[2]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'disagree' });
    expect(ack).toMatchObject({ ok: true });
    expected.get(voteId)?.set(reader, 'disagree') ?? expected.set(voteId, new Map([[reader, 'disagree']]));
    const closed = await moderator.send('vote:close', { commandId: cmd(), voteId });
    expect(closed).toMatchObject({ ok: true, vote: { state: 'closed', tally: expectedTally(voteId) } });
    const tally = expectedTally(voteId);
    expect(closed).toMatchObject({ vote: { outcome: tally.agree >= 3 ? 'accepted' : 'rejected' } });
  });

  it('R-VOTE-8: a closed vote whose Redis keys are gone rebuilds with its frozen ballots', async () => {
    const voteId = voteIds[1]!;
    await redis.restart();
    const listed = await untilOk(() => moderator.send('vote:list', { scanId }));
    const vote = (listed.votes as Vote[]).find((v) => v.id === voteId);
    expect(vote).toMatchObject({ state: 'closed', tally: expectedTally(voteId) });
    expect(await readers[0]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' })).toMatchObject({
      ok: false,
      error: { code: 'vote_closed' },
    });
  });
});
