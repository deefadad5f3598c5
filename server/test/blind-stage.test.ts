import {
  type Finding,
  type LocalLabel,
  proposeGlobal,
  putFinding,
  readFindings,
  setReaderDone,
} from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { Api, type Member, startTestServer } from './helpers/test-server.js';
import { ADMIN } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

/** The reference vector of the issue: three readers, IoU 0.4, 1000 x 1000. */
const READINGS: Array<Array<[LocalLabel, [number, number, number, number]]>> = [
  [
    ['Nodule/Mass', [100, 100, 300, 300]],
    ['Cardiomegaly', [500, 500, 800, 900]],
  ],
  [
    ['Nodule/Mass', [120, 110, 310, 290]],
    ['Cardiomegaly', [520, 480, 790, 880]],
  ],
  [
    ['Nodule/Mass', [110, 90, 280, 320]],
    ['Nodule/Mass', [700, 100, 900, 200]],
  ],
];

describe('blind first stage', () => {
  let server: RunningServer;
  let api: Api;
  let admin: Member;
  let moderator: Member;
  let readers: Member[];
  let outsider: Member;
  let sessionId: string;
  const scan = 'blind-scan-1';

  beforeAll(async () => {
    server = await startTestServer();
    api = new Api(server.url);
    const adminLogin = await api.login(ADMIN.username, ADMIN.password);
    admin = { id: adminLogin.id, username: ADMIN.username, token: adminLogin.token };
    const asAdmin = api.as(admin.token);
    const make = async (username: string, role: string): Promise<Member> => {
      await asAdmin.call('POST', '/api/users', { username, password: `${username}-password`, role });
      const login = await api.login(username, `${username}-password`);
      return { id: login.id, username, token: login.token };
    };
    moderator = await make('blind-mod', 'moderator');
    readers = [
      await make('blind-r1', 'reader'),
      await make('blind-r2', 'reader'),
      await make('blind-r3', 'reader'),
    ];
    outsider = await make('blind-out', 'reader');
    await asAdmin.call('POST', '/api/scans', { id: scan, rows: 1000, columns: 1000 });
    const session = await asAdmin.call('POST', '/api/sessions', {
      name: 'blind',
      moderatorId: moderator.id,
      readerIds: readers.map((r) => r.id),
      scanIds: [scan],
      mode: 'blind',
    });
    expect(session.status).toBe(201);
    expect(session.body).toMatchObject({ mode: 'blind', stage: 'blind', fusionIouThreshold: 0.4 });
    sessionId = String(session.body.id);
  });
  afterAll(async () => {
    await server.close();
  });

  const reading = (member: Member) => new TestClient(server.url, sessionId, `${scan}/reading`, member.token);
  const shared = (member: Member) => new TestClient(server.url, sessionId, scan, member.token);

  it('R-BLIND-1: during the blind stage a reader opens only their own reading; nobody else opens it', async () => {
    for (const [who, client] of [
      ['reader on the shared document', shared(readers[0]!)],
      ['moderator on a reading', reading(moderator)],
      ['admin on a reading', reading(admin)],
      ['outsider on a reading', reading(outsider)],
    ] as const) {
      expect((await client.closedByServer()).code, who).toBe(4403);
      client.destroy();
    }
    // The moderator may look at the (still empty) shared document, read-only.
    const mod = shared(moderator);
    await until(() => mod.synced);
    putFinding(mod.doc, {
      id: 'm',
      labels: ['Edema'],
      box: { x_min: 1, y_min: 1, x_max: 2, y_max: 2 },
      createdBy: moderator.id,
      updatedBy: moderator.id,
      updatedAt: 1,
    });
    expect((await mod.closedByServer()).code).toBe(4403);
    mod.destroy();
  });

  it('R-BLIND-2: readings are private: each reader sees only their own boxes', async () => {
    const clients = readers.map(reading);
    await until(() => clients.every((c) => c.synced), 5000, 'sync');
    clients.forEach((c, i) => {
      READINGS[i]!.forEach(([label, [x0, y0, x1, y1]], k) => {
        const f: Finding = {
          id: `r${i}-${k}`,
          labels: [label],
          box: { x_min: x0, y_min: y0, x_max: x1, y_max: y1 },
          createdBy: readers[i]!.id,
          updatedBy: readers[i]!.id,
          updatedAt: 1,
        };
        putFinding(c.doc, f);
      });
      c.doc.transact(() => {
        proposeGlobal(c.doc, i === 2 ? 'Tuberculosis' : 'Pneumonia', readers[i]!.id);
        if (i < 2) setReaderDone(c.doc, readers[i]!.id, true);
      });
    });
    await until(() => clients.every((c) => c.closes.length === 0), 1000);
    for (const c of clients) c.destroy();
    const again = reading(readers[1]!);
    await until(() => again.synced && readFindings(again.doc).length === 2, 5000, 'own reading back');
    expect(readFindings(again.doc).every((f) => f.createdBy === readers[1]!.id)).toBe(true);
    again.destroy();
  });

  it('R-BLIND-3: the moderator sees progress only (done / not done); readers may not', async () => {
    const progress = await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/progress`);
    expect(progress.status).toBe(200);
    expect(progress.body).toEqual({
      stage: 'blind',
      scans: [
        {
          scanId: scan,
          readers: [
            { userId: readers[0]!.id, done: true },
            { userId: readers[1]!.id, done: true },
            { userId: readers[2]!.id, done: false },
          ],
        },
      ],
    });
    expect((await api.as(readers[0]!.token).call('GET', `/api/sessions/${sessionId}/progress`)).status).toBe(
      403,
    );
    const early = await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/agreement`);
    expect(early.status).toBe(409);
  });

  it('R-BLIND-4: the reveal freezes readings and writes fused proposals (reference WBF vector) and tallies', async () => {
    expect((await api.as(readers[0]!.token).call('POST', `/api/sessions/${sessionId}/reveal`)).status).toBe(
      403,
    );
    const res = await api.as(moderator.token).call('POST', `/api/sessions/${sessionId}/reveal`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ stage: 'consensus', proposals: 3 });
    expect((await api.as(moderator.token).call('POST', `/api/sessions/${sessionId}/reveal`)).status).toBe(
      409,
    );

    const view = shared(readers[0]!);
    await until(() => view.synced && readFindings(view.doc).length === 3, 5000, 'proposals');
    const proposals = readFindings(view.doc).map((f) => ({
      labels: f.labels,
      box: f.box,
      share: f.fusion?.share,
      n: f.fusion?.sources.length,
    }));
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
    const expected = [
      { label: 'Nodule/Mass', box: [110, 100, 296.666667, 303.333333], share: 1, n: 3 },
      { label: 'Cardiomegaly', box: [510, 490, 795, 890], share: 0.666667, n: 2 },
      { label: 'Nodule/Mass', box: [700, 100, 900, 200], share: 0.333333, n: 1 },
    ];
    for (const e of expected) {
      const match = proposals.find(
        (p) =>
          p.labels[0] === e.label &&
          near(p.box.x_min, e.box[0]!) &&
          near(p.box.y_min, e.box[1]!) &&
          Math.abs(p.box.x_max - e.box[2]!) < 1e-5 &&
          Math.abs(p.box.y_max - e.box[3]!) < 1e-5,
      );
      expect(match, JSON.stringify(e)).toBeDefined();
      expect(Math.abs((match!.share ?? 0) - e.share)).toBeLessThan(1e-5);
      expect(match!.n).toBe(e.n);
    }
    const tallies = view.doc.getMap('tallies').toJSON() as Record<
      string,
      { readers: string[]; share: number }
    >;
    expect(tallies.Pneumonia?.readers.length).toBe(2);
    expect(tallies.Tuberculosis?.readers.length).toBe(1);
    view.destroy();

    // Readings are frozen after the reveal.
    const late = reading(readers[2]!);
    await until(() => late.synced);
    proposeGlobal(late.doc, 'COPD', readers[2]!.id);
    expect((await late.closedByServer()).code).toBe(4409);
    late.destroy();
  });

  it('R-BLIND-5: the dispute queue lists proposals below quorum', async () => {
    const res = await api
      .as(readers[1]!.token)
      .call('GET', `/api/sessions/${sessionId}/scans/${scan}/disputes`);
    expect(res.status).toBe(200);
    const disputes = res.body.disputes as Array<{ kind: string; share?: number }>;
    expect(disputes.filter((d) => d.kind === 'below-quorum').map((d) => Number(d.share?.toFixed(6)))).toEqual(
      [0.333333],
    );
    expect(
      (await api.as(outsider.token).call('GET', `/api/sessions/${sessionId}/scans/${scan}/disputes`)).status,
    ).toBe(403);
  });

  it('R-BLIND-6: agreement of the blind readings is reported after the reveal', async () => {
    const res = await api.as(moderator.token).call('GET', `/api/sessions/${sessionId}/agreement`);
    expect(res.status).toBe(200);
    const perScan = res.body.perScan as Array<{
      scanId: string;
      boxes: { pairs: Array<{ f1: number | null }> };
    }>;
    expect(perScan[0]!.scanId).toBe(scan);
    expect(perScan[0]!.boxes.pairs).toHaveLength(3);
    expect(perScan[0]!.boxes.pairs.every((p) => p.f1 !== null && p.f1 >= 0 && p.f1 <= 1)).toBe(true);
  });
});
