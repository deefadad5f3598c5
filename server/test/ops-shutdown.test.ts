import { type Finding, putFinding } from '@cxr/shared';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { REPEAT_WINDOW_MS, shutdownOnSignal } from '../src/ops/shutdown.js';
import { ServerProcess } from './helpers/server-process.js';
import { PG_URL, createPanel, freePort, pgSchemaName, tempDir } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

describe('ops: graceful shutdown', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL');
  });

  it('R-OPS-4: SIGTERM mid-burst closes clients with 4503, stores every accepted update and exits 0', async () => {
    const env = { DATA_DIR: tempDir('cxr-sigterm-') };
    const first = new ServerProcess(await freePort(), env);
    servers.push(first);
    await first.start();
    const panel = await createPanel(first, { readers: 2 });
    const scan = panel.scanIds[0]!;
    const [r0, r1] = panel.readers;
    const a = new TestClient(first.url, panel.sessionId, scan, r0!.token);
    const b = new TestClient(first.url, panel.sessionId, scan, r1!.token);
    await until(() => a.synced && b.synced, 10_000, 'sync');
    // Distinct ids, so "what b saw" and "what a sent" are sets that can be compared.
    for (let i = 0; i < 300; i++) {
      const f: Finding = {
        id: `f${i}`,
        labels: ['Nodule/Mass'],
        box: { x_min: i, y_min: 1, x_max: i + 50, y_max: 80 },
        createdBy: r0!.id,
        updatedBy: r0!.id,
        updatedAt: i,
      };
      putFinding(a.doc, f);
    }
    // Terminate while the burst is still being stored and broadcast.
    await until(() => b.doc.getMap('findings').size > 0, 10_000, 'first broadcast');
    const exit = await first.stop('SIGTERM');
    expect(exit, first.output).toBe(0);
    expect((await a.closedByServer()).code).toBe(4503);
    expect((await b.closedByServer()).code).toBe(4503);
    const sawByB = new Set(b.doc.getMap('findings').keys());
    const sentByA = new Set(a.doc.getMap('findings').keys());
    a.destroy();
    b.destroy();

    const second = new ServerProcess(await freePort(), env);
    servers.push(second);
    await second.start();
    const c = new TestClient(second.url, panel.sessionId, scan, panel.moderator.token);
    await until(() => c.synced, 10_000, 'sync after restart');
    const restored = new Set(c.doc.getMap('findings').keys());
    c.destroy();
    await second.stop();
    // Everything anyone saw is stored; nothing appears that was never sent.
    for (const id of sawByB) expect(restored.has(id), id).toBe(true);
    for (const id of restored) expect(sentByA.has(id), id).toBe(true);
    expect(restored.size).toBeGreaterThanOrEqual(sawByB.size);
  });

  it('R-OPS-4: a stop that cannot finish (PostgreSQL holds every write) exits 1 after SHUTDOWN_TIMEOUT_MS, naming what was pending; the client keeps its edit and stores it on the next node', async () => {
    const schema = pgSchemaName();
    const port = await freePort();
    const env = {
      DATA_DIR: tempDir('cxr-timeout-'),
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: schema,
      TOKEN_SECRET: 'a-shared-secret-of-at-least-32-characters!',
      SHUTDOWN_TIMEOUT_MS: '1500',
    };
    const first = new ServerProcess(port, env);
    servers.push(first);
    await first.start();
    const panel = await createPanel(first, { readers: 1 });
    const scan = panel.scanIds[0]!;
    const reader = panel.readers[0]!;
    const writer = new TestClient(first.url, panel.sessionId, scan, reader.token);
    await until(() => writer.synced, 10_000, 'sync');

    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${schema}.doc_updates IN EXCLUSIVE MODE`);
      putFinding(writer.doc, {
        id: 'held-back',
        labels: ['Nodule/Mass'],
        box: { x_min: 1, y_min: 2, x_max: 30, y_max: 40 },
        createdBy: reader.id,
        updatedBy: reader.id,
        updatedAt: 1,
      });
      // The update reaches the server and its insert waits on the lock.
      await waitForLockedInsert(schema);
      const started = Date.now();
      const exit = await first.stop('SIGTERM');
      const took = Date.now() - started;
      expect(exit, first.output).toBe(1);
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(6000);
      const timedOut = first.output
        .split('\n')
        .filter((l) => l.includes('shutdown timed out'))
        .map((l) => JSON.parse(l) as { pending: string[] });
      expect(timedOut, first.output).toHaveLength(1);
      expect(timedOut[0]!.pending).toContain('accepted updates');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }

    // Nothing acknowledged was lost: the edit was never stored nor broadcast, and the client,
    // told 4503, still holds it and sends it to the node that serves next.
    const second = new ServerProcess(port, env);
    servers.push(second);
    await second.start();
    const fresh = new TestClient(second.url, panel.sessionId, scan, panel.moderator.token);
    await until(() => fresh.doc.getMap('findings').has('held-back'), 15_000, 'edit stored after restart');
    fresh.destroy();
    writer.destroy();
    await second.stop();
  });
});

/** Polls PostgreSQL until a session waits on a lock to insert into `doc_updates`. */
async function waitForLockedInsert(schema: string): Promise<void> {
  const probe = new pg.Client({ connectionString: PG_URL });
  await probe.connect();
  try {
    const started = Date.now();
    for (;;) {
      const { rows } = await probe.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query ILIKE '%doc_updates%' AND query ILIKE '%insert%'`,
      );
      if (Number(rows[0]!.n) > 0) return;
      if (Date.now() - started > 10_000) throw new Error(`no insert waits on ${schema}.doc_updates`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await probe.end();
  }
}

describe('ops: the signal handler', () => {
  const capture = () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    return { log, lines };
  };

  it('R-OPS-4: exits 0 once the orderly stop is done', async () => {
    const { log, lines } = capture();
    const exits: number[] = [];
    const onSignal = shutdownOnSignal({
      close: async () => undefined,
      pending: () => [],
      timeoutMs: 1000,
      log,
      exit: (code) => exits.push(code),
    });
    onSignal('SIGTERM');
    await until(() => exits.length > 0, 2000, 'exit');
    expect(exits).toEqual([0]);
    expect(lines.map((l) => l.msg)).toEqual(['shutting down', 'stopped']);
  });

  it('R-OPS-4: the same signal again within the repeat window (npm passing on Ctrl-C) is one request; a later one exits at once with 128+signal', async () => {
    const { log, lines } = capture();
    const exits: number[] = [];
    let now = 1_000;
    const onSignal = shutdownOnSignal({
      close: () => new Promise(() => undefined),
      pending: () => ['accepted updates', 'database'],
      timeoutMs: 200,
      log,
      exit: (code) => exits.push(code),
      now: () => now,
    });
    onSignal('SIGINT');
    now += 5;
    onSignal('SIGINT');
    expect(exits).toEqual([]);
    now += REPEAT_WINDOW_MS;
    onSignal('SIGINT');
    expect(exits).toEqual([130]);
    expect(lines.at(-1)).toMatchObject({ pending: ['accepted updates', 'database'] });
    // The stop never finishes: past the timeout the handler logs what was pending and exits 1.
    await until(() => exits.length === 2, 2000, 'timeout');
    expect(exits).toEqual([130, 1]);
    expect(lines.at(-1)).toMatchObject({
      msg: 'shutdown timed out; exiting',
      pending: ['accepted updates', 'database'],
    });
  });

  it('R-OPS-4: a failed stop exits 1 and logs the error with what was pending', async () => {
    const { log, lines } = capture();
    const exits: number[] = [];
    const onSignal = shutdownOnSignal({
      close: async () => {
        throw new Error('database went away');
      },
      pending: () => ['database'],
      timeoutMs: 1000,
      log,
      exit: (code) => exits.push(code),
    });
    onSignal('SIGTERM');
    await until(() => exits.length > 0, 2000, 'exit');
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toMatchObject({ msg: 'shutdown failed', pending: ['database'] });
  });
});
