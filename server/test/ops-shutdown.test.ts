import { type Finding, putFinding } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess } from './helpers/server-process.js';
import { createPanel, freePort, tempDir } from './helpers/test-server.js';
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
});
