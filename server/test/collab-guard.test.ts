import {
  type Finding,
  PROTOCOL_VERSION,
  proposeGlobal,
  putFinding,
  readProgress,
  setReaderDone,
  withdrawGlobal,
} from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import type { RunningServer } from '../src/main.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, docJson, until } from './helpers/yjs-client.js';

/**
 * Bad inputs tried here, each refused with its close code while the stored document and the
 * other clients stay untouched: no / wrong / expired token, a user off the panel, a bad path,
 * a protocol version mismatch, an unknown scan, decisions and lock state written by a reader,
 * a finding with NaN, a box outside the image, an inverted box, an unknown label, no labels,
 * `updatedBy` / `createdBy` of someone else, a nested Y type as a value, a list in a map root,
 * an unknown root type, an unknown global label, an oversized frame, garbage bytes, a text
 * frame, an unknown message type, an update with missing dependencies.
 */
describe('the update guard', () => {
  let server: RunningServer;
  let panel: Panel;
  let scan: string;
  let witness: TestClient;

  const storedState = async () => {
    await server.rooms.loaded({ sessionId: panel.sessionId, scanId: scan })?.whenDurable();
    const loaded = await server.stores.docs.load({ sessionId: panel.sessionId, scanId: scan });
    const doc = new Y.Doc();
    if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
    for (const u of loaded.updates) Y.applyUpdate(doc, u);
    return JSON.stringify(docJson(doc));
  };

  const good = (id: string, userId: string): Finding => ({
    id,
    labels: ['Cardiomegaly'],
    box: { x_min: 100, y_min: 100, x_max: 300, y_max: 400 },
    createdBy: userId,
    updatedBy: userId,
    updatedAt: 1,
  });

  beforeAll(async () => {
    server = await startTestServer({ WS_MAX_FRAME_BYTES: String(64 * 1024), WS_DEPENDENCY_WAIT_MS: '300' });
    panel = await createPanel(server, { readers: 2, scans: [{ rows: 1000, columns: 800 }] });
    scan = panel.scanIds[0]!;
    witness = new TestClient(server.url, panel.sessionId, scan, panel.readers[1]!.token);
    await until(() => witness.synced, 5000, 'witness sync');
    putFinding(witness.doc, good('witness-box', panel.readers[1]!.id));
    await until(
      () =>
        server.rooms
          .loaded({ sessionId: panel.sessionId, scanId: scan })
          ?.doc.getMap('findings')
          .has('witness-box') === true,
    );
  });
  afterAll(async () => {
    witness.destroy();
    await server.close();
  });

  /** Connects a reader, lets `act` write through the unmodified client, expects the close code. */
  async function expectRefused(
    act: (c: TestClient, userId: string) => void,
    code: number,
    reasonPart?: string,
  ) {
    const before = await storedState();
    const reader = panel.readers[0]!;
    const client = new TestClient(server.url, panel.sessionId, scan, reader.token);
    await until(() => client.synced, 5000, 'sync');
    act(client, reader.id);
    const closed = await client.closedByServer();
    expect(closed.code).toBe(code);
    if (reasonPart) expect(closed.reason).toContain(reasonPart);
    client.destroy();
    expect(await storedState()).toBe(before);
    expect(witness.closes).toEqual([]);
    expect(witness.doc.getMap('findings').size).toBe(1);
  }

  async function rawSocket(query: string, path = `/yjs/${panel.sessionId}/${scan}`) {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}?${query}`);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    return { ws, closed };
  }

  it('R-AUTH-1: no token, a wrong token and an expired token are refused with 4401', async () => {
    for (const token of [
      undefined,
      'not-a-token',
      await server.tokens.sign({ userId: panel.readers[0]!.id, role: 'reader' }, -10),
    ]) {
      const client = new TestClient(server.url, panel.sessionId, scan, token);
      const closed = await client.closedByServer();
      expect(closed.code).toBe(4401);
      client.destroy();
    }
  });

  it('R-AUTH-2: a user not on the panel is refused with 4403', async () => {
    const client = new TestClient(server.url, panel.sessionId, scan, panel.outsider.token);
    expect((await client.closedByServer()).code).toBe(4403);
    client.destroy();
  });

  it('R-PROTO-1: a bad path (4400), another protocol version (4426) and an unknown scan (4404)', async () => {
    const token = panel.readers[0]!.token;
    expect((await (await rawSocket(`token=${token}`, `/yjs/${panel.sessionId}`)).closed).code).toBe(4400);
    expect((await (await rawSocket(`token=${token}&v=${PROTOCOL_VERSION + 1}`)).closed).code).toBe(4426);
    expect(
      (await (await rawSocket(`token=${token}`, `/yjs/${panel.sessionId}/no-such-scan`)).closed).code,
    ).toBe(4404);
  });

  it('R-GUARD-1: a reader writing decisions or lock state is refused with 4403', async () => {
    await expectRefused(
      (c, id) => c.doc.getMap('decisions').set('finding:x', { outcome: 'accepted', decidedBy: id }),
      4403,
    );
    await expectRefused((c) => c.doc.getMap('meta').set('locked', false), 4403);
  });

  it('R-GUARD-2: findings that break the schema are refused with 4422', async () => {
    const cases: Array<[string, (id: string) => unknown]> = [
      [
        'NaN coordinate',
        (id) => ({ ...good('nan', id), box: { x_min: Number.NaN, y_min: 1, x_max: 5, y_max: 5 } }),
      ],
      [
        'box outside the image',
        (id) => ({ ...good('out', id), box: { x_min: 700, y_min: 1, x_max: 801, y_max: 5 } }),
      ],
      ['inverted box', (id) => ({ ...good('inv', id), box: { x_min: 50, y_min: 1, x_max: 10, y_max: 5 } })],
      ['unknown label', (id) => ({ ...good('lbl', id), labels: ['Lung opacity'] })],
      ['no labels', (id) => ({ ...good('none', id), labels: [] })],
      ['updatedBy of someone else', () => good('impostor', panel.readers[1]!.id)],
      ['createdBy of someone off the panel', (id) => ({ ...good('creator', id), createdBy: panel.admin.id })],
      ['id differing from key', (id) => ({ ...good('other-id', id) })],
    ];
    for (const [what, make] of cases) {
      await expectRefused(
        (c, id) =>
          c.doc
            .getMap('findings')
            .set(what === 'id differing from key' ? 'key' : String((make(id) as Finding).id), make(id)),
        4422,
      );
    }
  });

  it('R-GUARD-3: attributing a finding to someone off the panel is refused', async () => {
    await expectRefused(
      (c, id) => putFinding(c.doc, { ...good('witness-box', id), createdBy: panel.outsider.id }),
      4422,
      'createdBy',
    );
  });

  it('R-GUARD-4: nested types, list content, unknown roots and unknown global labels are refused', async () => {
    await expectRefused((c) => c.doc.getMap('findings').set('nested', new Y.Map()), 4422);
    await expectRefused((c) => c.doc.getArray('findings').insert(0, [1]), 4422);
    await expectRefused((c) => c.doc.getMap('notes').set('a', 1), 4422);
    await expectRefused(
      (c, id) => c.doc.getMap('globals').set('Flu', { label: 'Flu', proposedBy: id, updatedAt: 1 }),
      4422,
    );
    await expectRefused(
      (c) =>
        c.doc
          .getMap('globals')
          .set('COPD', { label: 'COPD', proposedBy: panel.readers[1]!.id, updatedAt: 1 }),
      4422,
    );
  });

  it('R-GUARD-5: oversized frames are refused with 4413, garbage and unknown messages with 4422', async () => {
    const token = panel.readers[0]!.token;
    const big = await rawSocket(`token=${token}`);
    big.ws.send(new Uint8Array(100 * 1024).fill(0));
    expect((await big.closed).code).toBe(4413);
    for (const frame of [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      new Uint8Array([0, 2, 5, 1, 2]),
      new Uint8Array([9]),
      new Uint8Array([0, 2, 3, 0xde, 0xad, 0xbe]),
      Buffer.from('hello, world'),
    ]) {
      const before = await storedState();
      const garbage = await rawSocket(`token=${token}`);
      garbage.ws.send(frame);
      expect((await garbage.closed).code).toBe(4422);
      expect(await storedState()).toBe(before);
    }
    expect(witness.closes).toEqual([]);
  });

  it('R-GUARD-6: an update whose dependencies never arrive is held, unapplied, then the client is asked to resync (4412)', async () => {
    const reader = panel.readers[0]!;
    const offline = new Y.Doc();
    putFinding(offline, good('dep-1', reader.id));
    const sv = Y.encodeStateVector(offline);
    putFinding(offline, { ...good('dep-1', reader.id), labels: ['Edema'] });
    const second = Y.encodeStateAsUpdate(offline, sv); // depends on the first, which is never sent
    const before = await storedState();
    const socket = await rawSocket(`token=${reader.token}`);
    const encoder = [0, 2, ...varUint(second.length), ...second];
    socket.ws.send(new Uint8Array(encoder));
    expect((await socket.closed).code).toBe(4412);
    expect(await storedState()).toBe(before);
  });

  it('R-GUARD-8: members mark only themselves done, and only when the VinDr rules hold', async () => {
    const other = panel.readers[1]!.id;
    await expectRefused((c, id) => setReaderDone(c.doc, id, true), 4422, 'at least one global label');
    await expectRefused((c) => setReaderDone(c.doc, other, false), 4422, 'only themselves');
    await expectRefused(
      (c, id) =>
        c.doc.transact(() => {
          proposeGlobal(c.doc, 'No finding', id);
          setReaderDone(c.doc, id, true);
        }),
      4422,
      'excludes every box',
    );
    const reader = panel.readers[0]!;
    const client = new TestClient(server.url, panel.sessionId, scan, reader.token);
    await until(() => client.synced);
    client.doc.transact(() => {
      proposeGlobal(client.doc, 'Pneumonia', reader.id);
      setReaderDone(client.doc, reader.id, true);
    });
    await until(() => witness.doc.getMap('progress').has(reader.id), 5000, 'progress stored');
    expect(readProgress(witness.doc)).toEqual([expect.objectContaining({ userId: reader.id, done: true })]);
    withdrawGlobal(client.doc, 'Pneumonia');
    await until(() => !witness.doc.getMap('globals').has('Pneumonia'), 5000, 'withdrawn');
    client.destroy();
    // Someone else's progress may not be removed either.
    const moderator = new TestClient(server.url, panel.sessionId, scan, panel.moderator.token);
    await until(() => moderator.synced && moderator.doc.getMap('progress').has(reader.id));
    moderator.doc.getMap('progress').delete(reader.id);
    const closed = await moderator.closedByServer();
    expect(closed.code).toBe(4403);
    expect(closed.reason).toContain('own progress');
    moderator.destroy();
    expect(witness.doc.getMap('progress').has(reader.id)).toBe(true);
  });

  it('R-GUARD-9: a malformed update arriving while another is held for its dependencies closes only that connection', async () => {
    // Found by bench/fuzz-frames.ts: merging the held update with a malformed one threw out of
    // the socket handler and ended the process.
    const reader = panel.readers[0]!;
    const offline = new Y.Doc();
    const updates: Uint8Array[] = [];
    offline.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 3; i++) putFinding(offline, { ...good('held', reader.id), updatedAt: i });
    const before = await storedState();
    const socket = await rawSocket(`token=${reader.token}`);
    const frame = (u: Uint8Array) => new Uint8Array([0, 2, ...varUint(u.length), ...u]);
    socket.ws.send(frame(updates[2]!)); // depends on #0 and #1: held
    socket.ws.send(frame(updates[1]!.slice(0, updates[1]!.length - 10))); // framed right, content cut short
    expect((await socket.closed).code).toBe(4422);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect(await storedState()).toBe(before);
    expect(witness.closes).toEqual([]);
  });

  it('R-GUARD-7: a valid edit after the refusals is accepted and stored', async () => {
    const reader = panel.readers[0]!;
    const client = new TestClient(server.url, panel.sessionId, scan, reader.token);
    await until(() => client.synced);
    putFinding(client.doc, good('valid-after', reader.id));
    await until(() => witness.doc.getMap('findings').has('valid-after'));
    expect(await storedState()).toContain('valid-after');
    client.destroy();
  });
});

function varUint(n: number): number[] {
  const out: number[] = [];
  let value = n;
  while (value > 127) {
    out.push((value & 127) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}
