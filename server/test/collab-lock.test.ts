import { createHash } from 'node:crypto';
import { type Finding, putFinding, readFindings, readMeta } from '@cxr/shared';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { RunningServer } from '../src/main.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

const box = (id: string, userId: string, x: number): Finding => ({
  id,
  labels: ['Pleural effusion'],
  box: { x_min: x, y_min: 10, x_max: x + 20, y_max: 40 },
  createdBy: userId,
  updatedBy: userId,
  updatedAt: 1,
});

describe('locking a scan', () => {
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({ COMPACT_AFTER_UPDATES: '1000000' });
    panel = await createPanel(server, {
      readers: 3,
      scans: [
        { rows: 2000, columns: 2000 },
        { rows: 500, columns: 500 },
      ],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const lockPath = (scan: string) => `/api/sessions/${panel.sessionId}/scans/${scan}/lock`;
  const consensusPath = (scan: string) => `/api/sessions/${panel.sessionId}/scans/${scan}/consensus`;

  it('R-LOCK-1: only the session’s moderator may lock', async () => {
    const scan = panel.scanIds[1]!;
    for (const who of [panel.readers[0]!, panel.outsider, panel.admin]) {
      const res = await panel.api.as(who.token).call('POST', lockPath(scan));
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe('forbidden');
    }
    expect((await panel.api.call('POST', lockPath(scan))).status).toBe(401);
    expect((await panel.api.as(panel.moderator.token).call('GET', consensusPath(scan))).status).toBe(404);
  });

  it('R-LOCK-2: a lock racing many in-flight edits: nothing after the lock is accepted, the record equals the stored document', async () => {
    const scan = panel.scanIds[0]!;
    const clients = panel.readers.map((r) => new TestClient(server.url, panel.sessionId, scan, r.token));
    await until(() => clients.every((c) => c.synced), 5000, 'sync');
    let writing = true;
    let sent = 0;
    const loops = clients.map(async (c, i) => {
      const reader = panel.readers[i]!;
      while (writing && c.closes.length === 0) {
        putFinding(c.doc, box(`r${i}-${sent++ % 40}`, reader.id, (sent * 7) % 1900));
        await new Promise((r) => setImmediate(r));
      }
    });
    await until(
      () =>
        (server.rooms.loaded({ sessionId: panel.sessionId, scanId: scan })?.doc.getMap('findings').size ??
          0) > 20,
      5000,
    );
    const res = await panel.api.as(panel.moderator.token).call('POST', lockPath(scan));
    expect(res.status).toBe(200);
    // Clients keep editing until the server closes them with 4409.
    await until(() => clients.every((c) => c.closes.length > 0), 5000, 'every writer refused');
    writing = false;
    await Promise.all(loops);
    for (const c of clients) expect(c.closes[0]!.code).toBe(4409);

    const body = res.body as { sha256: string; version: number; record: { findings: Finding[] } };
    expect(body.version).toBe(1);
    expect(createHash('sha256').update(canonicalize(body.record)!).digest('hex')).toBe(body.sha256);

    // The stored document, loaded afresh, has exactly the record's findings and the lock state.
    const loaded = await server.stores.docs.load({ sessionId: panel.sessionId, scanId: scan });
    const doc = new Y.Doc();
    for (const u of [loaded.snapshot, ...loaded.updates]) if (u) Y.applyUpdate(doc, u);
    expect(readFindings(doc)).toEqual(body.record.findings);
    expect(readMeta(doc)).toMatchObject({ locked: true, consensusHash: body.sha256, consensusVersion: 1 });

    const got = await panel.api.as(panel.readers[0]!.token).call('GET', consensusPath(scan));
    expect(got.status).toBe(200);
    expect(got.body.sha256).toBe(body.sha256);
    for (const c of clients) c.destroy();
  });

  it('R-LOCK-3: after the lock, every change is refused with 4409 but reading still works', async () => {
    const scan = panel.scanIds[0]!;
    const reader = panel.readers[0]!;
    const client = new TestClient(server.url, panel.sessionId, scan, reader.token);
    await until(() => client.synced, 5000);
    expect(readMeta(client.doc).locked).toBe(true);
    const before = readFindings(client.doc).length;
    expect(before).toBeGreaterThan(0);
    putFinding(client.doc, box('late', reader.id, 5));
    expect((await client.closedByServer()).code).toBe(4409);
    client.destroy();
    const again = await panel.api.as(panel.moderator.token).call('POST', lockPath(scan));
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('already_locked');
  });

  it('R-AUDIT-9: the lock compacts first, so every edit before it is chained ahead of the lock entry', async () => {
    const scan = panel.scanIds[0]!;
    const res = await panel.api
      .as(panel.readers[0]!.token)
      .call('GET', `/api/sessions/${panel.sessionId}/scans/${scan}/audit`);
    expect(res.status).toBe(200);
    expect(res.body.verified).toBe(true);
    const entries = res.body.entries as Array<{ kind: string; actor: string; payload: { count?: number } }>;
    const edits = entries.filter((e) => e.kind === 'edit');
    // COMPACT_AFTER_UPDATES is out of reach here: only the lock compacted, once.
    expect(edits).toHaveLength(panel.readers.length);
    expect(new Set(edits.map((e) => e.actor))).toEqual(new Set(panel.readers.map((r) => r.id)));
    // More than 20 findings were stored by the time of the lock, each by one update at least.
    expect(edits.reduce((n, e) => n + (e.payload.count ?? 0), 0)).toBeGreaterThan(20);
    expect(entries.at(-1)?.kind).toBe('lock');
    expect(entries.findIndex((e) => e.kind === 'lock')).toBe(edits.length);
    // The lock's own meta update (the server's) is all that is left in the log.
    expect(res.body.pendingEdits).toEqual([]);
    const loaded = await server.stores.docs.load({ sessionId: panel.sessionId, scanId: scan });
    expect(loaded.snapshot).toBeDefined();
    expect(loaded.updates).toHaveLength(1);
  });

  it('R-LOCK-4: the lock survives a restart of the room (unloaded and reloaded)', async () => {
    const scan = panel.scanIds[0]!;
    await until(
      () => server.rooms.loaded({ sessionId: panel.sessionId, scanId: scan }) === undefined,
      5000,
      'unload',
    );
    const client = new TestClient(server.url, panel.sessionId, scan, panel.readers[1]!.token);
    await until(() => client.synced, 5000);
    putFinding(client.doc, box('after-reload', panel.readers[1]!.id, 5));
    expect((await client.closedByServer()).code).toBe(4409);
    client.destroy();
  });
});
