import { type Finding, putFinding } from '@cxr/shared';
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
});
