import { type Finding, putFinding, proposeGlobal, readFindings } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { RunningServer } from '../src/main.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, docJson, until } from './helpers/yjs-client.js';

function finding(
  id: string,
  userId: string,
  x: number,
  labels: Finding['labels'] = ['Nodule/Mass'],
): Finding {
  return {
    id,
    labels,
    box: { x_min: x, y_min: 10, x_max: x + 50, y_max: 80 },
    createdBy: userId,
    updatedBy: userId,
    updatedAt: Date.now(),
  };
}

describe('scan documents over y-websocket', () => {
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer();
    panel = await createPanel(server, { readers: 5 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('R-SYNC-1: two WebsocketProvider clients converge', async () => {
    const [r0, r1] = panel.readers;
    const a = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, r0!.token);
    const b = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, r1!.token);
    await until(() => a.synced && b.synced, 5000, 'sync');
    putFinding(a.doc, finding('f-a', r0!.id, 100));
    proposeGlobal(b.doc, 'Pneumonia', r1!.id);
    await until(
      () => readFindings(b.doc).length === 1 && a.doc.getMap('globals').size === 1,
      5000,
      'convergence',
    );
    expect(docJson(a.doc)).toEqual(docJson(b.doc));
    a.destroy();
    b.destroy();
  });

  it('R-SYNC-1: six clients (5 readers + moderator) converge on concurrent edits', async () => {
    const members = [...panel.readers, panel.moderator];
    const clients = members.map(
      (m) => new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, m.token),
    );
    await until(() => clients.every((c) => c.synced), 5000, 'sync');
    clients.forEach((c, i) => {
      for (let k = 0; k < 5; k++) putFinding(c.doc, finding(`six-${i}-${k}`, members[i]!.id, 10 + k * 60));
    });
    putFinding(clients[0]!.doc, finding('shared', members[0]!.id, 100));
    await until(() => clients.every((c) => c.doc.getMap('findings').has('shared')), 5000, 'shared box seen');
    // Everyone drags the shared box at once: it stays whole (one atomic value) and keeps its author.
    for (const [i, c] of clients.entries()) {
      putFinding(c.doc, { ...finding('shared', members[i]!.id, 100 + i), createdBy: members[0]!.id });
    }
    await until(
      () => clients.every((c) => readFindings(c.doc).filter((f) => f.id.startsWith('six-')).length === 30),
      8000,
      'six-way convergence',
    );
    await until(
      () => clients.every((c) => JSON.stringify(docJson(c.doc)) === JSON.stringify(docJson(clients[0]!.doc))),
      8000,
      'identical docs',
    );
    const shared = readFindings(clients[0]!.doc).find((f) => f.id === 'shared')!;
    expect(shared.box.x_max - shared.box.x_min).toBe(50);
    expect(clients.every((c) => c.closes.length === 0)).toBe(true);
    for (const c of clients) c.destroy();
  });

  it('R-SYNC-2: edits made offline merge on reconnect', async () => {
    const [r0, r1] = panel.readers;
    const scan = panel.scanIds[0]!;
    const a = new TestClient(server.url, panel.sessionId, scan, r0!.token);
    const b = new TestClient(server.url, panel.sessionId, scan, r1!.token);
    await until(() => a.synced && b.synced, 5000, 'sync');
    a.provider.disconnect();
    putFinding(a.doc, finding('offline-a', r0!.id, 300));
    putFinding(b.doc, finding('online-b', r1!.id, 400));
    await until(() => a.doc.getMap('findings').has('online-b') === false, 1000);
    a.provider.connect();
    await until(
      () => a.doc.getMap('findings').has('online-b') && b.doc.getMap('findings').has('offline-a'),
      5000,
      'offline merge',
    );
    expect(docJson(a.doc)).toEqual(docJson(b.doc));
    a.destroy();
    b.destroy();
  });

  it('R-SYNC-3: a late joiner receives the stored state', async () => {
    const late = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.moderator.token);
    await until(() => late.synced, 5000, 'sync');
    expect(late.doc.getMap('findings').has('offline-a')).toBe(true);
    late.destroy();
  });

  it('R-SYNC-4: the sender is not echoed its own update', async () => {
    const [r0] = panel.readers;
    const a = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, r0!.token);
    await until(() => a.synced, 5000, 'sync');
    let received = 0;
    a.doc.on('update', (_u: Uint8Array, origin: unknown) => {
      if (origin === a.provider) received++;
    });
    const b = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.readers[1]!.token);
    await until(() => b.synced, 5000, 'sync');
    putFinding(a.doc, finding('echo-check', r0!.id, 500));
    await until(() => b.doc.getMap('findings').has('echo-check'), 5000);
    // b saw it, so the server broadcast it; a must not have received it back.
    expect(received).toBe(0);
    a.destroy();
    b.destroy();
  });

  it('R-SYNC-5: an admin off the panel may watch, read-only', async () => {
    const watcher = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.admin.token);
    await until(() => watcher.synced, 5000, 'sync');
    expect(watcher.doc.getMap('findings').size).toBeGreaterThan(0);
    putFinding(watcher.doc, finding('admin-edit', panel.admin.id, 10));
    const closed = await watcher.closedByServer();
    expect(closed.code).toBe(4403);
    watcher.destroy();
  });

  it('R-SYNC-6: a plain Y.Doc state equals the server document after sync', async () => {
    const a = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.readers[0]!.token);
    await until(() => a.synced, 5000, 'sync');
    const room = server.rooms.loaded({ sessionId: panel.sessionId, scanId: panel.scanIds[0]! });
    expect(room).toBeDefined();
    await room!.whenDurable();
    await until(() => JSON.stringify(docJson(a.doc)) === JSON.stringify(docJson(room!.doc)), 3000, 'equal');
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(a.doc));
    expect(docJson(copy)).toEqual(docJson(room!.doc));
    a.destroy();
  });
});
