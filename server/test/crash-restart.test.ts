import { type Finding, putFinding, proposeGlobal } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess } from './helpers/server-process.js';
import { PG_URL, createPanel, freePort, pgSchemaName, tempDir } from './helpers/test-server.js';
import { TestClient, docJson, until } from './helpers/yjs-client.js';

const backends = [
  { name: 'sqlite', env: () => ({}) },
  { name: 'postgres', env: () => ({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: pgSchemaName() }) },
];

describe.each(backends)('durability across kill -9 ($name)', ({ env: backendEnv }) => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL');
  });

  it('R-DUR-1: state broadcast before a kill -9 is identical after restart', async () => {
    const dataDir = tempDir('cxr-crash-');
    // Compact often so the restart restores from a snapshot plus a log tail.
    const env = { DATA_DIR: dataDir, COMPACT_AFTER_UPDATES: '25', ...backendEnv() };
    const first = new ServerProcess(await freePort(), env);
    servers.push(first);
    await first.start();
    const panel = await createPanel(first, { readers: 2, scans: [{ rows: 3000, columns: 2800 }] });
    const scan = panel.scanIds[0]!;
    const [r0, r1] = panel.readers;
    const a = new TestClient(first.url, panel.sessionId, scan, r0!.token);
    const b = new TestClient(first.url, panel.sessionId, scan, r1!.token);
    await until(() => a.synced && b.synced, 10_000, 'sync');
    for (let i = 0; i < 120; i++) {
      const f: Finding = {
        id: `f${i % 30}`,
        labels: ['Nodule/Mass'],
        box: { x_min: i, y_min: i, x_max: i + 100, y_max: i + 120 },
        createdBy: r0!.id,
        updatedBy: r0!.id,
        updatedAt: i,
      };
      putFinding(a.doc, f);
    }
    proposeGlobal(b.doc, 'Tuberculosis', r1!.id);
    // b seeing a's last move means the server stored it (stored before broadcast).
    await until(
      () =>
        (b.doc.getMap('findings').get('f29') as Finding | undefined)?.box.x_min === 119 &&
        a.doc.getMap('globals').size === 1,
      10_000,
      'broadcast',
    );
    const seen = JSON.stringify(docJson(b.doc));
    await first.kill9();
    a.destroy();
    b.destroy();

    const second = new ServerProcess(await freePort(), env);
    servers.push(second);
    await second.start();
    const c = new TestClient(second.url, panel.sessionId, scan, panel.moderator.token);
    await until(() => c.synced, 10_000, 'sync after restart');
    expect(JSON.stringify(docJson(c.doc))).toBe(seen);
    c.destroy();
    await second.stop();
  });
});
