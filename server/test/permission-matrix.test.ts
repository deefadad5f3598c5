import { type ClientToServerEvents, type Finding, PROTOCOL_VERSION, putFinding } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import type { RunningServer } from '../src/main.js';
import type { AnalyticsCaptureService } from '../src/realtime/analytics-capture.js';
import { commandTable } from '../src/realtime/commands.js';
import type { ModeratorService } from '../src/realtime/moderator.js';
import type { VoteService } from '../src/realtime/votes.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import { ADMIN, Api, startTestServer } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';
import { LiveClient, cmd, refusal } from './realtime/live-client.js';

/**
 * R-SEC-10: the whole permission matrix in one table. Every HTTP route the server registers and
 * every socket.io command, for six actors, each cell the expected status (HTTP) or ack
 * (`ok` / error code; `connect:<code>` when the handshake already refuses the actor). A route or
 * command missing from the tables fails the test, so a new one cannot skip it.
 *
 * Rows run in table order against one real server; cells run left to right (the session's
 * moderator before the admin), so stateful rows (lock, reveal, reader removal) are ordered
 * where they stand. Where an allowed actor's request would fail for another reason, the cell
 * names that reason's status (e.g. 400 for the CSV import with a bad body): the point is that
 * the permission check let it through, and the forbidden actors never get that far.
 */

const ACTORS = ['anonymous', 'outsider', 'reader', 'otherModerator', 'moderator', 'admin'] as const;
type Actor = (typeof ACTORS)[number];
type Cells<T> = Readonly<Record<Actor, T>>;

interface Member {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly token: string;
}

/** Everything the setup creates; ids the rows put into paths and bodies. */
interface World {
  readonly server: RunningServer;
  readonly api: Api;
  readonly members: Readonly<Record<Exclude<Actor, 'anonymous'>, Member>>;
  /** Readers of the live session the moderator and the admin remove (one each). */
  readonly spare: readonly [Member, Member];
  /** A user only PATCH touches. */
  readonly bystander: Member;
  /** Live session: moderator, reader and the spares; scans dicom (locked), plain, live. */
  readonly live: string;
  /** Blind session: moderator and reader; scan plain. */
  readonly blind: string;
  readonly dicomScan: string;
  readonly plainScan: string;
  readonly liveScan: string;
  voteId?: string;
}

interface Request {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
  /** A DICOM file (sent as application/dicom) instead of JSON. */
  readonly dicom?: Uint8Array;
  /** Streamed responses are read on a connection of their own (see getBytes). */
  readonly stream?: boolean;
}

interface HttpRow {
  readonly route: string;
  readonly note: string;
  readonly request: (w: World, actor: Actor) => Request;
  readonly expect: Cells<number>;
}

const ALL = (status: number): Cells<number> => ({
  anonymous: status,
  outsider: status,
  reader: status,
  otherModerator: status,
  moderator: status,
  admin: status,
});
const USERS_ONLY: Cells<number> = { ...ALL(200), anonymous: 401 };
const ADMIN_ONLY = (ok: number): Cells<number> => ({ ...ALL(403), anonymous: 401, admin: ok });
const PANEL_AND_ADMIN: Cells<number> = { ...ALL(200), anonymous: 401, outsider: 403, otherModerator: 403 };
const MODERATOR_AND_ADMIN = (ok: number): Cells<number> => ({
  ...ALL(403),
  anonymous: 401,
  moderator: ok,
  admin: ok,
});
const MODERATOR_ONLY = (ok: number): Cells<number> => ({ ...ALL(403), anonymous: 401, moderator: ok });
const CREATORS = (ok: number): Cells<number> => ({
  ...ALL(ok),
  anonymous: 401,
  outsider: 403,
  reader: 403,
});

let unique = 0;
const next = () => `${++unique}-${Math.random().toString(36).slice(2, 6)}`;

const get =
  (url: string, stream = false) =>
  (): Request => ({ method: 'GET', url, stream });

const HTTP: readonly HttpRow[] = [
  { route: 'GET /api/health', note: 'alive', request: get('/api/health'), expect: ALL(200) },
  { route: 'GET /api/ready', note: 'ready', request: get('/api/ready'), expect: ALL(200) },
  { route: 'GET /metrics', note: 'open without METRICS_TOKEN', request: get('/metrics'), expect: ALL(200) },
  { route: 'GET /api/openapi.json', note: 'public', request: get('/api/openapi.json'), expect: ALL(200) },
  { route: 'GET /api/docs', note: 'public', request: get('/api/docs'), expect: ALL(200) },
  {
    route: 'POST /api/auth/login',
    note: 'everyone logs in with their own name (anonymous: the reader’s)',
    request: (w, actor) => {
      const who = w.members[actor === 'anonymous' ? 'reader' : actor];
      return {
        method: 'POST',
        url: '/api/auth/login',
        body: { username: who.username, password: who.password },
      };
    },
    expect: ALL(200),
  },
  { route: 'GET /api/me', note: '', request: get('/api/me'), expect: USERS_ONLY },
  {
    route: 'POST /api/users',
    note: 'a new user each time',
    request: () => ({
      method: 'POST',
      url: '/api/users',
      body: { username: `new-${next()}`, password: 'a-long-new-password', role: 'reader' },
    }),
    expect: ADMIN_ONLY(201),
  },
  { route: 'GET /api/users', note: '', request: get('/api/users'), expect: ADMIN_ONLY(200) },
  {
    route: 'PATCH /api/users/:userId',
    note: 'a bystander, no change of access',
    request: (w) => ({ method: 'PATCH', url: `/api/users/${w.bystander.id}`, body: { disabled: false } }),
    expect: ADMIN_ONLY(200),
  },
  { route: 'GET /api/admin/audit', note: '', request: get('/api/admin/audit'), expect: ADMIN_ONLY(200) },
  {
    route: 'POST /api/sessions',
    note: 'moderators only for sessions they moderate',
    request: (w, actor) => ({
      method: 'POST',
      url: '/api/sessions',
      body: {
        name: `made by ${actor}`,
        moderatorId:
          actor === 'admin' || actor === 'anonymous' ? w.members.moderator.id : w.members[actor].id,
        readerIds: [],
        scanIds: [w.plainScan],
      },
    }),
    expect: CREATORS(201),
  },
  {
    route: 'GET /api/sessions',
    note: 'each sees their own',
    request: get('/api/sessions'),
    expect: USERS_ONLY,
  },
  {
    route: 'GET /api/sessions/:sessionId',
    note: '',
    request: (w) => get(`/api/sessions/${w.live}`)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'DELETE /api/sessions/:sessionId/readers/:userId',
    note: 'the moderator removes one spare reader, the admin the other',
    request: (w, actor) => ({
      method: 'DELETE',
      url: `/api/sessions/${w.live}/readers/${w.spare[actor === 'admin' ? 1 : 0].id}`,
    }),
    expect: MODERATOR_AND_ADMIN(204),
  },
  {
    route: 'POST /api/scans',
    note: 'registration by size (JSON), a new id each time',
    request: () => ({
      method: 'POST',
      url: '/api/scans',
      body: { id: `reg-${next()}`, rows: 64, columns: 64 },
    }),
    expect: CREATORS(201),
  },
  {
    route: 'POST /api/scans',
    note: 'a real DICOM upload, a new file each time',
    request: () => ({ method: 'POST', url: '/api/scans', dicom: dicomFile() }),
    expect: CREATORS(201),
  },
  {
    route: 'GET /api/scans/:scanId',
    note: '',
    request: (w) => get(`/api/scans/${w.dicomScan}`)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'GET /api/scans/:scanId/dicom',
    note: '',
    request: (w) => get(`/api/scans/${w.dicomScan}/dicom`, true)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'GET /api/scans/:scanId/thumbnail',
    note: '',
    request: (w) => get(`/api/scans/${w.dicomScan}/thumbnail`, true)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'GET /api/scans/:scanId/preview',
    note: '',
    request: (w) => get(`/api/scans/${w.dicomScan}/preview`, true)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'POST /api/sessions/:sessionId/scans/:scanId/lock',
    note: 'admins unlock, they do not lock',
    request: (w) => ({ method: 'POST', url: `/api/sessions/${w.live}/scans/${w.plainScan}/lock` }),
    expect: MODERATOR_ONLY(200),
  },
  {
    route: 'GET /api/sessions/:sessionId/scans/:scanId/consensus',
    note: 'the DICOM scan was locked in the setup',
    request: (w) => get(`/api/sessions/${w.live}/scans/${w.dicomScan}/consensus`)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'POST /api/sessions/:sessionId/scans/:scanId/consensus/pacs-push',
    note: 'no PACS here: 404 pacs_not_configured shows the admin got through',
    request: (w) => ({
      method: 'POST',
      url: `/api/sessions/${w.live}/scans/${w.dicomScan}/consensus/pacs-push`,
    }),
    expect: ADMIN_ONLY(404),
  },
  {
    route: 'GET /api/pacs/studies',
    note: 'R-PACS-1: no PACS here: 404 pacs_not_configured shows admins and moderators got through',
    request: get('/api/pacs/studies?PatientID=X'),
    expect: CREATORS(404),
  },
  {
    route: 'POST /api/pacs/imports',
    note: 'R-PACS-3: into a session only its moderator or an admin; 404 pacs_not_configured past the check',
    request: (w) => ({
      method: 'POST',
      url: '/api/pacs/imports',
      body: { studyInstanceUids: ['1.2.3'], sessionId: w.live },
    }),
    expect: { ...CREATORS(404), otherModerator: 403 },
  },
  {
    route: 'GET /api/pacs/imports/:id',
    note: 'R-PACS-5: no such job (and another user’s is not found either)',
    request: get('/api/pacs/imports/no-such-job'),
    expect: CREATORS(404),
  },
  {
    route: 'GET /api/sessions/:sessionId/scans/:scanId/audit',
    note: '',
    request: (w) => get(`/api/sessions/${w.live}/scans/${w.dicomScan}/audit`)(),
    expect: PANEL_AND_ADMIN,
  },
  ...(['annotations_test.csv', 'image_labels_test.csv', 'coco.json', 'manifest.json'] as const).map(
    (file): HttpRow => ({
      route: `GET /api/sessions/:sessionId/export/${file}`,
      note: '',
      request: (w) => get(`/api/sessions/${w.live}/export/${file}`)(),
      expect: PANEL_AND_ADMIN,
    }),
  ),
  {
    route: 'GET /api/sessions/:sessionId/scans/:scanId/export/sr.dcm',
    note: '',
    request: (w) => get(`/api/sessions/${w.live}/scans/${w.dicomScan}/export/sr.dcm`)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'GET /api/sessions/:sessionId/progress',
    note: 'blind session',
    request: (w) => get(`/api/sessions/${w.blind}/progress`)(),
    expect: MODERATOR_AND_ADMIN(200),
  },
  {
    route: 'POST /api/sessions/:sessionId/readings/import',
    note: 'bad CSV: 400 shows the permission check passed',
    request: (w) => ({
      method: 'POST',
      url: `/api/sessions/${w.blind}/readings/import`,
      body: { annotationsCsv: 'not,a,vindr,file', imageLabelsCsv: 'nor,this' },
    }),
    expect: MODERATOR_AND_ADMIN(400),
  },
  {
    route: 'GET /api/sessions/:sessionId/scans/:scanId/disputes',
    note: 'blind session, before the reveal',
    request: (w) => get(`/api/sessions/${w.blind}/scans/${w.plainScan}/disputes`)(),
    expect: PANEL_AND_ADMIN,
  },
  {
    route: 'POST /api/sessions/:sessionId/reveal',
    note: 'the moderator only; admins watch',
    request: (w) => ({ method: 'POST', url: `/api/sessions/${w.blind}/reveal` }),
    expect: MODERATOR_ONLY(200),
  },
  ...(['annotations_train.csv', 'image_labels_train.csv'] as const).map(
    (file): HttpRow => ({
      route: `GET /api/sessions/:sessionId/export/${file}`,
      note: 'after the reveal',
      request: (w) => get(`/api/sessions/${w.blind}/export/${file}`)(),
      expect: MODERATOR_AND_ADMIN(200),
    }),
  ),
  {
    route: 'GET /api/sessions/:sessionId/agreement',
    note: 'after the reveal',
    request: (w) => get(`/api/sessions/${w.blind}/agreement`)(),
    expect: MODERATOR_AND_ADMIN(200),
  },
  {
    route: 'GET /api/sessions/:sessionId/analytics',
    note: 'R-ANALYTICS-5: a reader gets 200 with only their own rows (see analytics-capture.test.ts)',
    request: (w) => get(`/api/sessions/${w.live}/analytics`)(),
    expect: PANEL_AND_ADMIN,
  },
];

// ---- socket.io commands ----

/** Refused at the handshake: no command of theirs ever reaches a handler. */
const HANDSHAKE: Readonly<Record<'anonymous' | 'outsider' | 'otherModerator', string>> = {
  anonymous: 'connect:unauthenticated',
  outsider: 'connect:forbidden',
  otherModerator: 'connect:forbidden',
};
type SocketCells = Readonly<Record<'reader' | 'moderator' | 'admin', string>>;
const SOCKET_ALL: SocketCells = { reader: 'ok', moderator: 'ok', admin: 'ok' };
const SOCKET_MODERATOR: SocketCells = { reader: 'forbidden', moderator: 'ok', admin: 'forbidden' };

interface SocketRow {
  readonly note: string;
  readonly payload: (w: World) => unknown;
  readonly expect: SocketCells;
}

const FINDING = 'f-matrix';
const GLOBAL = 'No finding';

/** Keyed by event name: the type makes every command of the contract appear here. */
const SOCKET: Readonly<Record<keyof ClientToServerEvents, SocketRow>> = {
  'presence:scan': { note: '', payload: (w) => ({ scanId: w.liveScan }), expect: SOCKET_ALL },
  'follow:set': { note: '', payload: () => ({ following: true }), expect: SOCKET_ALL },
  'moderator:goto': { note: '', payload: (w) => ({ scanId: w.liveScan }), expect: SOCKET_MODERATOR },
  'session:quorum': { note: '', payload: () => ({ commandId: cmd(), quorum: 1 }), expect: SOCKET_MODERATOR },
  'vote:open': {
    note: 'on a finding the reader drew',
    payload: (w) => ({ commandId: cmd(), scanId: w.liveScan, target: { kind: 'finding', id: FINDING } }),
    expect: SOCKET_MODERATOR,
  },
  'vote:cast': {
    note: 'panel readers only (observers and the moderator do not vote)',
    payload: (w) => ({ commandId: cmd(), voteId: w.voteId, choice: 'agree' }),
    expect: { reader: 'ok', moderator: 'forbidden', admin: 'forbidden' },
  },
  'vote:list': { note: '', payload: (w) => ({ scanId: w.liveScan }), expect: SOCKET_ALL },
  'vote:close': {
    note: '',
    payload: (w) => ({ commandId: cmd(), voteId: w.voteId }),
    expect: SOCKET_MODERATOR,
  },
  'scan:decide': {
    note: 'the same finding, decided directly',
    payload: (w) => ({
      commandId: cmd(),
      scanId: w.liveScan,
      target: { kind: 'finding', id: FINDING },
      outcome: 'accepted',
    }),
    expect: SOCKET_MODERATOR,
  },
  'scan:lock': {
    note: 'every target is decided',
    payload: (w) => ({ commandId: cmd(), scanId: w.liveScan }),
    expect: SOCKET_MODERATOR,
  },
  'scan:unlock': {
    note: 'admins only, even over the moderator',
    payload: (w) => ({ commandId: cmd(), scanId: w.liveScan, reason: 'matrix check' }),
    expect: { reader: 'forbidden', moderator: 'forbidden', admin: 'ok' },
  },
  'analytics:capture': {
    note: 'R-ANALYTICS-3: panel readers write their own; the moderator and observing admins have none',
    payload: (w) => ({
      batchId: cmd(),
      sentAt: Date.now(),
      scans: [{ scanId: w.liveScan, activeMs: 1000, tools: { draw: 1 } }],
    }),
    expect: { reader: 'ok', moderator: 'forbidden', admin: 'forbidden' },
  },
};

let dicomSeed = 0;
function dicomFile(): Uint8Array {
  dicomSeed += 1;
  // Large enough to have a first-paint preview (256 px a side).
  return makeSyntheticChest({
    rows: 260,
    columns: 256,
    seed: dicomSeed,
    sopInstanceUid: `1.2.826.0.1.3680043.2.1125.77.${process.pid}.${dicomSeed}`,
  }).bytes;
}

async function send(w: World, actor: Actor, req: Request): Promise<number> {
  const token = actor === 'anonymous' ? undefined : w.members[actor].token;
  if (req.stream) return (await getBytes(w.server, req.url, token)).status;
  if (req.dicom) return (await uploadDicom(w.server, token, req.dicom)).status;
  const api = token ? w.api.as(token) : w.api;
  return (await api.call(req.method, req.url, req.body)).status;
}

describe('R-SEC-10 permission matrix', () => {
  let world: World;
  const sockets = new Map<Actor, LiveClient>();
  let writer: TestClient;

  beforeAll(async () => {
    const server = await startTestServer();
    const api = new Api(server.url);
    const admin = await api.login(ADMIN.username, ADMIN.password);
    const asAdmin = api.as(admin.token);
    const make = async (name: string, role: string): Promise<Member> => {
      const username = `${name}-${next()}`;
      const password = `${username}-password`;
      const res = await asAdmin.call('POST', '/api/users', { username, password, role });
      if (res.status !== 201) throw new Error(`create ${name}: ${JSON.stringify(res.body)}`);
      const login = await api.login(username, password);
      return { id: login.id, username, password, token: login.token };
    };
    const members = {
      outsider: await make('outsider', 'reader'),
      reader: await make('reader', 'reader'),
      otherModerator: await make('othermod', 'moderator'),
      moderator: await make('mod', 'moderator'),
      admin: { id: admin.id, username: ADMIN.username, password: ADMIN.password, token: admin.token },
    };
    const spare: [Member, Member] = [await make('spare0', 'reader'), await make('spare1', 'reader')];
    const bystander = await make('bystander', 'reader');

    const upload = await uploadDicom(server, admin.token, dicomFile());
    if (upload.status !== 201) throw new Error(`upload: ${JSON.stringify(upload.body)}`);
    const dicomScan = String(upload.body.id);
    const plainScan = `plain-${next()}`;
    const liveScan = `live-${next()}`;
    const otherScan = `other-${next()}`;
    for (const id of [plainScan, liveScan, otherScan]) {
      const res = await asAdmin.call('POST', '/api/scans', { id, rows: 512, columns: 512 });
      if (res.status !== 201) throw new Error(`scan: ${JSON.stringify(res.body)}`);
    }
    const session = async (body: Record<string, unknown>) => {
      const res = await asAdmin.call('POST', '/api/sessions', body);
      if (res.status !== 201) throw new Error(`session: ${JSON.stringify(res.body)}`);
      return String(res.body.id);
    };
    const live = await session({
      name: 'live',
      moderatorId: members.moderator.id,
      readerIds: [members.reader.id, spare[0].id, spare[1].id],
      scanIds: [dicomScan, plainScan, liveScan],
    });
    const blind = await session({
      name: 'blind',
      mode: 'blind',
      moderatorId: members.moderator.id,
      readerIds: [members.reader.id],
      scanIds: [plainScan],
    });
    // The other moderator's own session: a moderator, but not of `live` or `blind`.
    await session({
      name: 'other',
      moderatorId: members.otherModerator.id,
      readerIds: [],
      scanIds: [otherScan],
    });

    // A locked consensus for the export and consensus rows.
    const locked = await api
      .as(members.moderator.token)
      .call('POST', `/api/sessions/${live}/scans/${dicomScan}/lock`);
    if (locked.status !== 200) throw new Error(`lock: ${JSON.stringify(locked.body)}`);

    // A finding in the live scan, drawn by the reader, for the vote and decision commands.
    writer = new TestClient(server.url, live, liveScan, members.reader.token);
    await until(() => writer.synced, 5000, 'yjs sync');
    const finding: Finding = {
      id: FINDING,
      labels: ['Nodule/Mass'],
      box: { x_min: 10, y_min: 10, x_max: 50, y_max: 60 },
      createdBy: members.reader.id,
      updatedBy: members.reader.id,
      updatedAt: 1,
    };
    putFinding(writer.doc, finding);
    // R-LOCK-7: the scan:lock row needs an accepted global label; the reader proposes one and it
    // is accepted beforehand, so the row tests who may lock, not what.
    writer.doc.getMap('globals').set(GLOBAL, { label: GLOBAL, proposedBy: members.reader.id, updatedAt: 1 });
    // The server has it once the scan's document reports a version for the finding.
    for (let tries = 0; ; tries++) {
      const version = await server.scanDocs.targetVersion(
        { sessionId: live, scanId: liveScan },
        { kind: 'finding', id: FINDING },
      );
      if (version.ok && version.value !== undefined) break;
      if (tries > 500) throw new Error('the finding never reached the server');
      await new Promise((r) => setTimeout(r, 10));
    }
    const acceptedGlobal = await server.scanDocs.writeDecision(
      { sessionId: live, scanId: liveScan },
      {
        target: { kind: 'global', label: GLOBAL },
        outcome: 'accepted',
        decidedBy: members.moderator.id,
        decidedAt: 1,
      },
    );
    if (!acceptedGlobal.ok) throw new Error(`accepting the global label: ${acceptedGlobal.error.code}`);

    world = { server, api, members, spare, bystander, live, blind, dicomScan, plainScan, liveScan };
  });

  afterAll(async () => {
    for (const socket of sockets.values()) socket.close();
    writer?.destroy();
    await world?.server.close();
  });

  it('every registered route is in the table, and every row names a registered route', () => {
    const registered = new Set(world.server.routes.map((r) => `${r.method} ${r.url}`));
    const tabled = new Set(HTTP.map((row) => row.route));
    expect([...registered].filter((r) => !tabled.has(r)).sort()).toEqual([]);
    expect([...tabled].filter((r) => !registered.has(r)).sort()).toEqual([]);
  });

  it('every socket command the server handles is in the table', () => {
    // The table only needs the command names: the services are never called here.
    const names = [
      ...commandTable({} as VoteService, {} as ModeratorService, {} as AnalyticsCaptureService).keys(),
    ].sort();
    expect(Object.keys(SOCKET).sort()).toEqual(names);
  });

  it('HTTP: each actor gets the expected status on every route', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const row of HTTP) {
      for (const actor of ACTORS) {
        const status = await send(world, actor, row.request(world, actor));
        const label = `${row.route} (${row.note || 'plain'}) as ${actor}`;
        got.push(`${label}: ${status}`);
        want.push(`${label}: ${row.expect[actor]}`);
      }
    }
    // One comparison of the whole matrix: a failure shows every wrong cell at once.
    expect(got).toEqual(want);
  });

  it('socket.io: each actor gets the expected handshake refusal or ack on every command', async () => {
    const w = world;
    // Bad handshakes tried: no token at all (anonymous), valid tokens of users off the panel.
    const handshake = async (actor: keyof typeof HANDSHAKE) => {
      const auth =
        actor === 'anonymous'
          ? { v: PROTOCOL_VERSION, sessionId: w.live }
          : { token: w.members[actor].token, v: PROTOCOL_VERSION, sessionId: w.live };
      return `connect:${(await refusal(w.server.url, auth)).code}`;
    };
    for (const actor of ['reader', 'moderator', 'admin'] as const) {
      sockets.set(
        actor,
        await LiveClient.open(w.server.url, { token: w.members[actor].token, sessionId: w.live }),
      );
    }
    const got: string[] = [];
    const want: string[] = [];
    for (const [event, row] of Object.entries(SOCKET)) {
      for (const actor of ACTORS) {
        const label = `${event} (${row.note || 'plain'}) as ${actor}`;
        let outcome: string;
        if (actor === 'anonymous' || actor === 'outsider' || actor === 'otherModerator') {
          outcome = await handshake(actor);
          want.push(`${label}: ${HANDSHAKE[actor]}`);
        } else {
          const client = sockets.get(actor);
          if (!client) throw new Error(`no socket for ${actor}`);
          const ack = (await client.raw(event, row.payload(w))) as {
            ok: boolean;
            error?: { code: string };
            vote?: { id: string };
          };
          outcome = ack.ok ? 'ok' : (ack.error?.code ?? 'no code');
          if (event === 'vote:open' && ack.ok && ack.vote) w.voteId = ack.vote.id;
          want.push(`${label}: ${row.expect[actor]}`);
        }
        got.push(`${label}: ${outcome}`);
      }
    }
    expect(got).toEqual(want);
  });
});
