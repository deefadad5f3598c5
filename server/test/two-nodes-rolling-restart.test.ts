import { type Finding, type GlobalLabel, type Vote, proposeGlobal, putFinding } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { FailoverProxy } from './helpers/failover-proxy.js';
import { ServerProcess } from './helpers/server-process.js';
import { PG_URL, createPanel, freePort, pgSchemaName, tempDir } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';
import { LiveClient, cmd } from './realtime/live-client.js';

const MOVE_EVERY_MS = 25;

/** Milliseconds from each server close to the next sync (Yjs) or connect (socket.io). */
function reconnectTimes(): { closed(): void; back(): void; times: number[] } {
  let closedAt: number | undefined;
  const times: number[] = [];
  return {
    closed() {
      closedAt ??= Date.now();
    },
    back() {
      if (closedAt === undefined) return;
      times.push(Date.now() - closedAt);
      closedAt = undefined;
    },
    times,
  };
}

/**
 * docker-compose.yml's topology as local processes: two nodes over one PostgreSQL and Redis
 * behind an entry point that sends each connection to a node that accepts it. Each node in
 * turn is stopped (SIGTERM) and started again while readers move boxes, add findings and vote.
 */
describe('two nodes: a rolling restart under load', () => {
  const nodes: ServerProcess[] = [];
  let proxy: FailoverProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
    for (const n of nodes) await n.stop('SIGKILL');
  });

  it('R-OPS-4: every move, finding and acknowledged vote survives restarting node A, then node B; clients reconnect through the entry point', async () => {
    const env = {
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: pgSchemaName(),
      TOKEN_SECRET: 'a-shared-secret-of-at-least-32-characters!',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    const a = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    const b = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    nodes.push(a, b);
    await a.start();
    await b.start();
    proxy = await FailoverProxy.start([a.port, b.port]);
    const entry = proxy.url;
    const panel = await createPanel(a, { readers: 2 });
    const scan = panel.scanIds[0]!;
    const label: GlobalLabel = 'COPD';

    const yjsTimes = reconnectTimes();
    const liveTimes = reconnectTimes();
    const readers = panel.readers.map((user) => {
      const doc = new TestClient(entry, panel.sessionId, scan, user.token);
      const times = reconnectTimes();
      doc.provider.on('connection-close', () => times.closed());
      doc.provider.on('sync', (synced: boolean) => {
        if (synced) times.back();
      });
      const live = new LiveClient(entry, { token: user.token, sessionId: panel.sessionId });
      const liveT = reconnectTimes();
      live.socket.on('disconnect', () => liveT.closed());
      live.socket.on('connect', () => liveT.back());
      const told: number[] = [];
      live.socket.on('server:restarting', ({ code }) => told.push(code));
      return {
        user,
        doc,
        live,
        times,
        liveT,
        told,
        x: 0,
        added: [] as string[],
        lastChoice: undefined as string | undefined,
      };
    });
    const moderator = new LiveClient(entry, { token: panel.moderator.token, sessionId: panel.sessionId });
    await until(() => readers.every((r) => r.doc.synced && r.live.socket.connected), 10_000, 'clients up');
    await until(() => moderator.socket.connected, 10_000, 'moderator up');

    proposeGlobal(readers[0]!.doc.doc, label, readers[0]!.user.id);
    let opened = await moderator.send('vote:open', {
      commandId: cmd(),
      scanId: scan,
      target: { kind: 'global', label },
    });
    const openStarted = Date.now();
    while (!opened.ok && opened.error.code === 'not_found' && Date.now() - openStarted < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      opened = await moderator.send('vote:open', {
        commandId: cmd(),
        scanId: scan,
        target: { kind: 'global', label },
      });
    }
    if (!opened.ok) throw new Error(JSON.stringify(opened));
    const voteId = (opened.vote as Vote).id;

    // The load: each reader moves its box every 25 ms, adds a finding every tenth move, and
    // casts votes one after another, resending the same command until it is acknowledged.
    let running = true;
    let moves = 0;
    let casts = 0;
    const box = (r: (typeof readers)[number], id: string, x: number): Finding => ({
      id,
      labels: ['Nodule/Mass'],
      box: { x_min: x, y_min: 10, x_max: x + 40, y_max: 60 },
      createdBy: r.user.id,
      updatedBy: r.user.id,
      updatedAt: Date.now(),
    });
    const movers = readers.map(async (r, i) => {
      while (running) {
        r.x++;
        moves++;
        putFinding(r.doc.doc, box(r, `moving-${i}`, r.x));
        if (r.x % 10 === 0) {
          const id = `added-${i}-${r.x}`;
          putFinding(r.doc.doc, box(r, id, r.x));
          r.added.push(id);
        }
        await new Promise((res) => setTimeout(res, MOVE_EVERY_MS));
      }
    });
    const voters = readers.map(async (r, i) => {
      let n = 0;
      while (running) {
        const choice = (n++ + i) % 2 === 0 ? 'agree' : 'disagree';
        const commandId = cmd();
        for (;;) {
          const ack = await r.live
            .send('vote:cast', { commandId, voteId, choice }, 2_000)
            .catch(() => undefined);
          if (ack?.ok) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        r.lastChoice = choice;
        casts++;
        await new Promise((res) => setTimeout(res, 50));
      }
    });

    const loadFor = (ms: number) => new Promise((res) => setTimeout(res, ms));
    await loadFor(1500);
    for (const node of [a, b]) {
      expect(await node.stop('SIGTERM'), node.output).toBe(0);
      await loadFor(1000);
      await node.start();
      await loadFor(1500);
    }
    running = false;
    await Promise.all([...movers, ...voters]);

    // What every reader has is what a new client reads from either node.
    await until(() => readers.every((r) => r.doc.synced), 15_000, 'readers synced');
    const check = new TestClient(entry, panel.sessionId, scan, panel.moderator.token);
    const findings = check.doc.getMap('findings');
    const expected = readers.flatMap((r, i) => [
      [`moving-${i}`, r.x] as const,
      ...r.added.map((id) => [id, Number(id.split('-')[2])] as const),
    ]);
    await until(
      () => expected.every(([id, x]) => (findings.get(id) as Finding | undefined)?.box.x_min === x),
      15_000,
      'every move and finding stored',
    );
    const listed = await moderator.send('vote:list', { scanId: scan });
    expect(listed.ok, JSON.stringify(listed)).toBe(true);
    const vote = (listed as unknown as { votes: Vote[] }).votes.find((v) => v.id === voteId)!;
    for (const r of readers) expect(vote.ballots[r.user.id], r.user.username).toBe(r.lastChoice);

    for (const r of readers) {
      yjsTimes.times.push(...r.times.times);
      liveTimes.times.push(...r.liveT.times);
    }
    const summary = (t: number[]) =>
      t.length === 0
        ? 'none'
        : `${t.length} reconnects, median ${[...t].sort((x, y) => x - y)[t.length >> 1]} ms, max ${Math.max(...t)} ms`;
    console.log(
      `rolling restart: ${moves} moves, ${expected.length - readers.length} findings added, ${casts} votes acknowledged, 0 lost; ` +
        `Yjs ${summary(yjsTimes.times)}; socket.io ${summary(liveTimes.times)}`,
    );
    // Each node's stop moved its clients, told with the one "reconnect" code on both transports.
    expect(yjsTimes.times.length).toBeGreaterThan(0);
    expect(liveTimes.times.length).toBeGreaterThan(0);
    expect(new Set(readers.flatMap((r) => r.doc.closes.map((c) => c.code)))).toEqual(new Set([4503]));
    expect(new Set(readers.flatMap((r) => r.told))).toEqual(new Set([4503]));

    check.destroy();
    moderator.close();
    for (const r of readers) {
      r.doc.destroy();
      r.live.close();
    }
  }, 120_000);
});
