import { randomUUID } from 'node:crypto';
import { type Vote, proposeGlobal } from '@cxr/shared';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '../helpers/server-process.js';
import { PG_URL, createPanel, freePort, pgSchemaName, tempDir } from '../helpers/test-server.js';
import { TestClient, until } from '../helpers/yjs-client.js';
import { LiveClient, cmd } from './live-client.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Two real server processes sharing PostgreSQL, Redis (own key prefix) and the token secret:
 * socket.io clients on node A and node B see each other's presence, votes, decisions and the
 * lock; a node killed with SIGKILL drops out of presence after the TTL.
 */
describe('live panel on two nodes', () => {
  const nodes: ServerProcess[] = [];
  const clients: LiveClient[] = [];
  const prefix = `t2n${randomUUID().slice(0, 8)}:`;
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const n of nodes) await n.stop('SIGKILL');
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) await redis.del(keys);
    }
    redis.destroy();
  });

  it('R-RT-5 R-PRES-5: presence, votes, the decision and the lock reach clients on both nodes', async () => {
    const env = {
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: pgSchemaName(),
      TOKEN_SECRET: 'a-shared-secret-of-at-least-32-characters!',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      PRESENCE_HEARTBEAT_MS: '200',
      PRESENCE_TTL_MS: '1500',
    };
    const a = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    const b = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    nodes.push(a, b);
    // One after the other: both would otherwise race to create the first admin.
    await a.start();
    await b.start();
    const panel = await createPanel(a, { readers: 3 });
    const scanId = panel.scanIds[0]!;
    const sessionId = panel.sessionId;
    const join = async (node: ServerProcess, token: string) => {
      const client = await LiveClient.open(node.url, { token, sessionId });
      clients.push(client);
      return client;
    };
    const moderator = await join(a, panel.moderator.token);
    const onA = await join(a, panel.readers[0]!.token);
    const onB = await join(b, panel.readers[1]!.token);
    const alsoOnB = await join(b, panel.readers[2]!.token);

    // Presence spans nodes: each side sees the other's users online.
    await until(() => moderator.member(panel.readers[1]!.id)?.online === true, 10_000, 'B reader seen on A');
    await until(() => onB.member(panel.moderator.id)?.online === true, 10_000, 'A moderator seen on B');
    await onB.send('presence:scan', { scanId });
    await until(() => moderator.member(panel.readers[1]!.id)?.scanId === scanId, 10_000, 'scan seen on A');

    // Following: the moderator's goto on A moves the followers on B.
    await moderator.send('moderator:goto', { scanId });
    await until(() => onB.gotos.length === 1 && alsoOnB.gotos.length === 1, 10_000, 'goto on B');

    // A global label proposed on A becomes the vote's target.
    const doc = new TestClient(a.url, sessionId, scanId, panel.readers[0]!.token);
    try {
      await until(() => doc.synced, 10_000, 'yjs sync');
      proposeGlobal(doc.doc, 'COPD', panel.readers[0]!.id);
      const target = { kind: 'global' as const, label: 'COPD' as const };
      let opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
      const started = Date.now();
      while (!opened.ok && opened.error.code === 'not_found' && Date.now() - started < 5000) {
        opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
      }
      if (!opened.ok) throw new Error(JSON.stringify(opened));
      const voteId = (opened.vote as Vote).id;
      await until(() => onB.votes.has(voteId), 10_000, 'vote opened, seen on B');

      // Casts on B reach A, and the other way round.
      // B's copy of the document may lag behind A's for a moment: a stale cast is refused as a
      // retryable conflict (never voided on a lagging replica's word), and the client retries.
      const castOnB = async () => {
        const started = Date.now();
        for (;;) {
          const ack = await onB.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' });
          if (ack.ok || ack.error.code !== 'conflict' || Date.now() - started > 5000) return ack;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      expect(await castOnB()).toMatchObject({ ok: true });
      expect(await alsoOnB.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' })).toMatchObject({
        ok: true,
      });
      expect(await onA.send('vote:cast', { commandId: cmd(), voteId, choice: 'disagree' })).toMatchObject({
        ok: true,
      });
      await until(() => moderator.votes.get(voteId)?.tally.agree === 2, 10_000, 'B casts seen on A');
      await until(() => onB.votes.get(voteId)?.tally.disagree === 1, 10_000, 'A cast seen on B');

      expect(await moderator.send('vote:close', { commandId: cmd(), voteId })).toMatchObject({
        ok: true,
        vote: { outcome: 'accepted' },
      });
      await until(() => onB.decided.length === 1, 10_000, 'decision seen on B');
      const locked = await moderator.send('scan:lock', { commandId: cmd(), scanId });
      expect(locked).toMatchObject({ ok: true, version: 1 });
      await until(() => onB.locked.length === 1 && alsoOnB.locked.length === 1, 10_000, 'lock seen on B');
      expect(onB.locked[0]).toMatchObject({ scanId, version: 1 });
    } finally {
      doc.destroy();
    }

    // A node that dies without a word drops out of everyone's presence after the TTL.
    await b.kill9();
    await until(() => moderator.member(panel.readers[1]!.id)?.online === false, 10_000, 'B readers expire');
    expect(moderator.member(panel.readers[2]!.id)?.online).toBe(false);
    expect(moderator.member(panel.readers[0]!.id)?.online).toBe(true);
  });
});
