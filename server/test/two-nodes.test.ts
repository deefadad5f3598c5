import { type Finding, putFinding, readMeta } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess } from './helpers/server-process.js';
import { Api, PG_URL, createPanel, freePort, pgSchemaName, tempDir } from './helpers/test-server.js';
import { TestClient, docJson, until } from './helpers/yjs-client.js';

/**
 * The production topology of docker-compose.yml as local processes: two server nodes over one
 * PostgreSQL with one shared token secret. The entry point routes each scan to one node by a
 * hash of its session and scan; when a node goes away, the other serves the same state.
 */
describe('two nodes over one PostgreSQL', () => {
  const nodes: ServerProcess[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.stop('SIGKILL');
  });

  it('R-DUR-3: a token from node A works on node B, and B serves what A stored after A is killed', async () => {
    const env = {
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: pgSchemaName(),
      TOKEN_SECRET: 'a-shared-secret-of-at-least-32-characters!',
    };
    const a = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    const b = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
    nodes.push(a, b);
    await a.start();
    await b.start();
    const panel = await createPanel(a, { readers: 2 });
    const reader = panel.readers[0]!;
    expect((await new Api(b.url, reader.token).call('GET', `/api/sessions/${panel.sessionId}`)).status).toBe(
      200,
    );

    const onA = new TestClient(a.url, panel.sessionId, panel.scanIds[0]!, reader.token);
    const watcher = new TestClient(a.url, panel.sessionId, panel.scanIds[0]!, panel.moderator.token);
    await until(() => onA.synced && watcher.synced, 10_000, 'sync on A');
    const finding: Finding = {
      id: 'node-a-box',
      labels: ['Atelectasis'],
      box: { x_min: 5, y_min: 5, x_max: 50, y_max: 60 },
      createdBy: reader.id,
      updatedBy: reader.id,
      updatedAt: 1,
    };
    putFinding(onA.doc, finding);
    await until(() => watcher.doc.getMap('findings').has('node-a-box'), 10_000, 'broadcast on A');
    const seen = JSON.stringify(docJson(watcher.doc));
    await a.kill9();
    onA.destroy();
    watcher.destroy();

    const onB = new TestClient(b.url, panel.sessionId, panel.scanIds[0]!, panel.readers[1]!.token);
    await until(() => onB.synced, 10_000, 'sync on B');
    expect(JSON.stringify(docJson(onB.doc))).toBe(seen);
    onB.destroy();
  });

  it('R-DUR-4: with REDIS_URL, clients on node A and node B see each other’s edits, cursors and the lock', async () => {
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
    const panel = await createPanel(a, { readers: 2 });
    const [r0, r1] = panel.readers;
    const scan = panel.scanIds[0]!;
    const onA = new TestClient(a.url, panel.sessionId, scan, r0!.token);
    const onB = new TestClient(b.url, panel.sessionId, scan, r1!.token);
    await until(() => onA.synced && onB.synced, 10_000, 'sync on both nodes');
    const box = (id: string, userId: string, x: number): Finding => ({
      id,
      labels: ['Emphysema'],
      box: { x_min: x, y_min: 5, x_max: x + 40, y_max: 60 },
      createdBy: userId,
      updatedBy: userId,
      updatedAt: x,
    });
    putFinding(onA.doc, box('from-a', r0!.id, 10));
    putFinding(onB.doc, box('from-b', r1!.id, 100));
    await until(
      () => onA.doc.getMap('findings').has('from-b') && onB.doc.getMap('findings').has('from-a'),
      10_000,
      'cross-node edits',
    );
    onA.provider.awareness.setLocalStateField('user', { id: r0!.id, name: 'A', color: '#f00' });
    onA.provider.awareness.setLocalStateField('cursor', { x: 12, y: 34 });
    await until(
      () =>
        [...onB.provider.awareness.getStates().values()].some(
          (state) => (state as { cursor?: { x: number } }).cursor?.x === 12,
        ),
      10_000,
      'cursor from node A on node B',
    );
    const lock = await new Api(a.url, panel.moderator.token).call(
      'POST',
      `/api/sessions/${panel.sessionId}/scans/${scan}/lock`,
    );
    expect(lock.status).toBe(200);
    await until(() => readMeta(onB.doc).locked, 10_000, 'lock seen on node B');
    putFinding(onB.doc, box('after-lock', r1!.id, 200));
    expect((await onB.closedByServer()).code).toBe(4409);
    const record = lock.body.record as { findings: Finding[] };
    expect(record.findings.map((f) => f.id)).toEqual(['from-a', 'from-b']);
    onA.destroy();
    onB.destroy();
  });
});
