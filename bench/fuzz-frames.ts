/**
 * Fuzz against one running server: random and mutated y-websocket frames (sync step 1, step 2,
 * update, awareness), raw socket.io / engine.io packets, and mutated DICOM uploads. Every HTTP
 * answer must be a success or a 4xx with {error:{code,message}} (never a 5xx, never a hang);
 * every socket must close or answer a ping; the server must stay healthy between batches, and
 * real WebsocketProvider clients must still sync and see each other's moves at the end.
 *
 *   npx tsx bench/fuzz-frames.ts [--frames 100000] [--dicom 10000] [--lanes 24] [--seed 1]
 *
 * The server is started by the bench (127.0.0.1 only, temp DATA_DIR removed at the end); the
 * run is bounded (--max-minutes) and stops by itself. On a failure the offending inputs are
 * written to bench/results/fuzz-failures/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { makeSyntheticChestDicom } from '../server/src/dicom/synthetic.js';
import { IMPLICIT_VR_LE, RLE_LOSSLESS } from '../server/src/dicom/transfer-syntax.js';
import { FullClient, closes } from './load/clients.js';
import { freePort, memory } from './load/proc.js';
import { MoveObserver, Recorder, RoomTimes } from './load/recorder.js';
import { type Plan, login, setUpServer } from './load/setup.js';
import { ROOT, children, guard, healthy, sleep, startServer } from './load/server.js';
import { ADMIN } from './load/setup.js';
import {
  EMPTY_STEP1,
  EMPTY_STEP2,
  awarenessFrame,
  encodeCursorFrames,
  encodeMoveFrames,
  presenceFor,
  syncFrame,
} from './load/wire.js';

const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    dicom: { type: 'string', default: '10000' },
    lanes: { type: 'string', default: '24' },
    'dicom-lanes': { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    'max-minutes': { type: 'string', default: '30' },
    /** Share of frames sent as socket.io packets (the rest are y-websocket frames). */
    'socketio-share': { type: 'string', default: '0.3' },
    /** Restart the server after a crash this many times (then stop), so every input is still sent. */
    'max-crashes': { type: 'string', default: '1000' },
  },
});
const FRAMES = Number(args.frames);
const DICOMS = Number(args.dicom);
const LANES = Number(args.lanes);
const DICOM_LANES = Number(args['dicom-lanes']);
const MAX_MINUTES = Number(args['max-minutes']);
const SIO_SHARE = Number(args['socketio-share']);
if (
  !(FRAMES >= 0 && FRAMES <= 2_000_000) ||
  !(DICOMS >= 0 && DICOMS <= 100_000) ||
  !(LANES >= 1 && LANES <= 200) ||
  !(DICOM_LANES >= 1 && DICOM_LANES <= 32) ||
  !(MAX_MINUTES > 0 && MAX_MINUTES <= 120)
) {
  throw new Error('bounded runs only: --frames <= 2e6, --dicom <= 1e5, --lanes <= 200, --max-minutes <= 120');
}
const REQUEST_TIMEOUT_MS = 15_000;
/** A socket that neither closes nor answers a ping within this long is a hang. */
const SOCKET_TIMEOUT_MS = 10_000;
const BATCH_FRAMES = 5_000;
const BATCH_DICOM = 500;

// Deterministic PRNG (mulberry32), so a failing run can be repeated with the same --seed.
let rngState = Number(args.seed) >>> 0 || 1;
function rand(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[randInt(xs.length)]!;
function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = randInt(256);
  return b;
}
function varUint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

// ---- mutators -------------------------------------------------------------------------------

type Mutator = (b: Buffer) => Buffer;
const MUTATORS: Record<string, Mutator> = {
  flip: (b) => {
    const c = Buffer.from(b);
    const k = 1 + randInt(4);
    for (let i = 0; i < k && c.length > 0; i++) {
      const at = randInt(c.length);
      c[at] = c[at]! ^ (1 << randInt(8));
    }
    return c;
  },
  byte: (b) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[randInt(c.length)] = pick([0, 0x7f, 0x80, 0xff, randInt(256)]);
    return c;
  },
  insert: (b) => {
    const at = randInt(b.length + 1);
    return Buffer.concat([b.subarray(0, at), randomBytes(1 + randInt(16)), b.subarray(at)]);
  },
  delete: (b) => {
    if (b.length < 2) return b;
    const at = randInt(b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + randInt(8))]);
  },
  truncate: (b) => b.subarray(0, randInt(b.length)),
  /** Rewrites the varUint length after the message (and sync) type: too short, too long, huge. */
  length: (b) => {
    const at = b[0] === 0 ? 2 : 1;
    let end = at;
    while (end < b.length && (b[end]! & 0x80) !== 0) end++;
    const len = pick([0, 1, b.length, b.length * 2, 0x7fffffff, 0xffffffff, 2 ** 40, randInt(1 << 20)]);
    return Buffer.concat([b.subarray(0, at), varUint(len), b.subarray(end + 1)]);
  },
  /** A varUint that never ends (continuation bits to the end of the frame). */
  endless: (b) => {
    const c = Buffer.from(b);
    for (let i = Math.min(c.length - 1, 1 + randInt(4)); i < c.length; i++) c[i] = c[i]! | 0x80;
    return c;
  },
  concat: (b) => Buffer.concat([b, b.subarray(0, randInt(b.length + 1))]),
};
const MUTATOR_NAMES = Object.keys(MUTATORS);

function mutate(b: Buffer): { bytes: Buffer; how: string } {
  let bytes = b;
  const hows: string[] = [];
  const rounds = 1 + (rand() < 0.3 ? randInt(3) : 0);
  for (let i = 0; i < rounds; i++) {
    const name = pick(MUTATOR_NAMES);
    hows.push(name);
    bytes = MUTATORS[name]!(bytes);
  }
  return { bytes, how: hows.join('+') };
}

// ---- y-websocket corpus -----------------------------------------------------------------------

function yCorpus(userId: string): Record<string, Buffer[]> {
  const base = Date.now();
  const doc = new Y.Doc();
  doc.getMap('findings').set('fuzz-a', { id: 'fuzz-a', labels: ['Nodule'], updatedAt: base });
  const bad = new Y.Doc();
  bad.getMap('findings').set('x', { garbage: true, box: { x_min: -1e9 } });
  bad.getMap('other').set('k', new Y.Array());
  bad.getText('t').insert(0, 'hello');
  const moves = encodeMoveFrames(0x2000_0000 + randInt(1 << 20), userId, 30, base);
  return {
    step1: [
      Buffer.from(EMPTY_STEP1),
      Buffer.from(syncFrame(0, Y.encodeStateVector(doc))),
      Buffer.from(syncFrame(0, Y.encodeStateVector(bad))),
    ],
    step2: [
      Buffer.from(EMPTY_STEP2),
      Buffer.from(syncFrame(1, Y.encodeStateAsUpdate(doc))),
      Buffer.from(syncFrame(1, Y.encodeStateAsUpdate(bad))),
    ],
    update: [...moves, Buffer.from(syncFrame(2, Y.encodeStateAsUpdate(bad)))],
    awareness: [
      ...encodeCursorFrames(0x2100_0000 + randInt(1 << 20), presenceFor(userId, 1), 10),
      Buffer.from(
        awarenessFrame([
          [1, 2 ** 31, '{"user":'],
          [2, 3, 'null'],
          [3, 1, '"x"'],
        ]),
      ),
    ],
    other: [Buffer.from([2]), Buffer.from([3, 0]), Buffer.from([4]), Buffer.from([0, 3, 0])],
  };
}

// ---- socket.io corpus -------------------------------------------------------------------------

const EVENTS = [
  'presence:scan',
  'follow:set',
  'moderator:goto',
  'vote:open',
  'vote:cast',
  'vote:close',
  'vote:list',
  'scan:decide',
  'scan:lock',
  'scan:unlock',
  'session:quorum',
  'nope',
  '__proto__',
];
function garbageJson(depth = 0): unknown {
  switch (randInt(depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return randInt(2) === 0 ? rand() * 1e12 - 5e11 : pick([0, -1, 2 ** 53, Number.MAX_VALUE]);
    case 2:
      return randomBytes(randInt(40)).toString('latin1');
    case 3:
      return pick(['', 'x'.repeat(10_000), 'scan-1', '../../etc/passwd', '__proto__', 'constructor']);
    case 4:
      return rand() < 0.5;
    case 5:
      return { _placeholder: true, num: randInt(3) };
    case 6:
      return Array.from({ length: randInt(5) }, () => garbageJson(depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (const k of ['scanId', 'voteId', 'findingId', 'choice', 'label', 'user', 'seq', 'x', '__proto__']) {
        if (rand() < 0.4) o[k] = garbageJson(depth + 1);
      }
      return o;
    }
  }
}
function socketIoPacket(): { data: Buffer | string; how: string } {
  const r = rand();
  if (r < 0.45) {
    const ack = rand() < 0.5 ? String(randInt(1000)) : '';
    const payload = [pick(EVENTS), ...Array.from({ length: randInt(3) }, () => garbageJson())];
    return { data: `42${ack}${JSON.stringify(payload)}`, how: 'event-garbage' };
  }
  if (r < 0.55)
    return {
      data: `4${pick(['0', '1', '3', '4', '5', '6', '9'])}${JSON.stringify(garbageJson())}`,
      how: 'packet-garbage',
    };
  if (r < 0.62)
    return {
      data: `45${randInt(5)}-${JSON.stringify([pick(EVENTS), { _placeholder: true, num: 0 }])}`,
      how: 'binary-event',
    };
  if (r < 0.7) return { data: pick(['2', '3', '2probe', '5', '6', '1', '4', '']), how: 'engine' };
  if (r < 0.8) {
    const text = `42${JSON.stringify([pick(EVENTS), garbageJson()])}`;
    return { data: mutate(Buffer.from(text)).bytes.toString('latin1'), how: 'mutated-text' };
  }
  if (r < 0.9) return { data: randomBytes(randInt(300)).toString('latin1'), how: 'random-text' };
  return { data: randomBytes(randInt(300)), how: 'random-binary' };
}

// ---- accounting -------------------------------------------------------------------------------

const counts = {
  framesSent: 0,
  yFrames: 0,
  sioFrames: 0,
  yConnections: 0,
  sioConnections: 0,
  yClose: new Map<string, number>(),
  sioClose: new Map<string, number>(),
  yKinds: new Map<string, number>(),
  sioKinds: new Map<string, number>(),
  hangs: 0,
  connectErrors: new Map<string, number>(),
  dicomStatus: new Map<number | string, number>(),
  dicomUnclear: 0,
  dicom5xx: 0,
  dicomTimeouts: 0,
  healthFailures: 0,
};
const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
const failures: string[] = [];
const FAIL_DIR = path.join(ROOT, 'bench/results/fuzz-failures');
/** The last frames sent (for a post-mortem if the server dies). */
const recent: Array<{ lane: number; kind: string; bytes: string }> = [];
function remember(lane: number, kind: string, data: Buffer | string): void {
  recent.push({ lane, kind, bytes: Buffer.from(data as Buffer).toString('base64') });
  if (recent.length > 200) recent.shift();
}
function saveFailure(name: string, data: Buffer | string): string {
  fs.mkdirSync(FAIL_DIR, { recursive: true });
  const file = path.join(FAIL_DIR, name);
  fs.writeFileSync(file, data);
  return path.relative(ROOT, file);
}

// ---- frame lanes ------------------------------------------------------------------------------

/** Opens one socket, sends a few frames, then pings: resolves with how it ended. */
function oneSocket(
  url: string,
  lane: number,
  nextFrame: () => { data: Buffer | string; kind: string } | undefined,
  onOpen: (ws: WebSocket) => Promise<boolean>,
): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: SOCKET_TIMEOUT_MS });
    let settled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const finish = (how: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      resolve(how);
    };
    watchdog = setTimeout(() => finish('hang'), SOCKET_TIMEOUT_MS * 2);
    ws.on('error', (e) => {
      if (ws.readyState !== WebSocket.OPEN) finish(`error ${(e as Error).message.slice(0, 60)}`);
    });
    ws.on('unexpected-response', (_req, res) => finish(`http ${res.statusCode}`));
    // Reasons that quote a number ("unknown message type 37") are grouped.
    ws.on('close', (code, reason) =>
      finish(`${code} ${reason.toString().replace(/\d+/g, 'N').slice(0, 40)}`),
    );
    ws.on('open', async () => {
      if (!(await onOpen(ws))) return;
      const burst = 1 + randInt(12);
      for (let i = 0; i < burst && !settled && ws.readyState === WebSocket.OPEN; i++) {
        const frame = nextFrame();
        if (!frame) break;
        remember(lane, frame.kind, frame.data);
        ws.send(frame.data);
        // Under the per-connection message rate limit (300/s): the decoder is the target here.
        await sleep(4);
      }
      if (settled) return;
      // Alive? Either the server closes (it refused something) or it answers a ping.
      clearTimeout(watchdog);
      watchdog = setTimeout(() => finish('hang'), SOCKET_TIMEOUT_MS);
      ws.once('pong', () => setTimeout(() => finish('open (pong)'), 20));
      try {
        ws.ping();
      } catch {
        finish('ping failed');
      }
    });
  });
}

async function frameLanes(
  port: number,
  plan: Plan,
  budget: { left: number },
  alive: () => boolean,
): Promise<void> {
  const room = plan.rooms[0]!;
  const reader = plan.members[1]!;
  const corpus = yCorpus(reader.id);
  const kinds = Object.keys(corpus);
  const yUrl = () => {
    // Mostly a valid reader; sometimes someone else or no one (refused at the door).
    const r = rand();
    const token = r < 0.9 ? reader.token : r < 0.95 ? plan.members[0]!.token : 'garbage-token';
    return `ws://127.0.0.1:${port}/yjs/${room.sessionId}/${room.scanId}?token=${token}&v=1`;
  };
  const take = () => {
    if (budget.left <= 0) return false;
    budget.left--;
    counts.framesSent++;
    return true;
  };
  const yFrame = () => {
    if (!take()) return undefined;
    counts.yFrames++;
    const r = rand();
    if (r < 0.15) {
      bump(counts.yKinds, 'valid');
      return { data: Buffer.from(pick(corpus[pick(kinds)]!)), kind: 'valid' };
    }
    if (r < 0.25) {
      bump(counts.yKinds, 'random');
      const n = rand() < 0.002 ? 2 * 1024 * 1024 : randInt(rand() < 0.9 ? 64 : 4096);
      return { data: randomBytes(n), kind: 'random' };
    }
    const kind = pick(kinds);
    const m = mutate(pick(corpus[kind]!));
    bump(counts.yKinds, `${kind}:${m.how.split('+')[0]}`);
    return { data: m.bytes, kind: `${kind}:${m.how}` };
  };
  const sioFrame = () => {
    if (!take()) return undefined;
    counts.sioFrames++;
    const p = socketIoPacket();
    bump(counts.sioKinds, p.how);
    return { data: p.data, kind: p.how };
  };
  const sioOpen = (ws: WebSocket) =>
    new Promise<boolean>((resolve) => {
      ws.once('message', () => {
        // Engine.io open packet received; connect to the default namespace, usually as a member.
        const r = rand();
        const auth =
          r < 0.7
            ? { token: reader.token, sessionId: room.sessionId, v: 1 }
            : r < 0.85
              ? garbageJson()
              : { token: 'nope', sessionId: room.sessionId };
        ws.send(`40${JSON.stringify(auth)}`);
        setTimeout(() => resolve(true), 10);
      });
    });
  const lane = async (i: number) => {
    while (budget.left > 0 && alive()) {
      const sio = rand() < SIO_SHARE;
      const how = sio
        ? await oneSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, i, sioFrame, sioOpen)
        : await oneSocket(yUrl(), i, yFrame, async () => true);
      if (sio) {
        counts.sioConnections++;
        bump(counts.sioClose, how);
      } else {
        counts.yConnections++;
        bump(counts.yClose, how);
      }
      if (how === 'hang') {
        counts.hangs++;
        failures.push(`socket hang (${sio ? 'socket.io' : 'y-websocket'}) lane ${i}`);
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
}

// ---- DICOM lanes ------------------------------------------------------------------------------

interface Field {
  /** Offset of the length field, and its size (2 or 4 bytes). */
  at: number;
  size: 2 | 4;
}
/** Length fields of an explicit VR little-endian file (group 2 and the data set after it). */
function lengthFields(b: Buffer): Field[] {
  const long = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'OD', 'OL', 'UC', 'UR', 'OV', 'SV', 'UV']);
  const out: Field[] = [];
  let pos = 132;
  while (pos + 8 <= b.length) {
    const group = b.readUInt16LE(pos);
    const vr = b.toString('latin1', pos + 4, pos + 6);
    if (!/^[A-Z]{2}$/.test(vr) || group === 0xfffe) break;
    if (long.has(vr)) {
      out.push({ at: pos + 8, size: 4 });
      const len = b.readUInt32LE(pos + 8);
      if (len === 0xffffffff) break; // encapsulated pixel data: stop here
      pos += 12 + len;
    } else {
      out.push({ at: pos + 6, size: 2 });
      pos += 8 + b.readUInt16LE(pos + 6);
    }
  }
  return out;
}

function mutateDicom(base: Buffer, fields: Field[]): { bytes: Buffer; how: string } {
  const r = rand();
  if (r < 0.35 && fields.length > 0) {
    const c = Buffer.from(base);
    const f = pick(fields);
    const old = f.size === 2 ? c.readUInt16LE(f.at) : c.readUInt32LE(f.at);
    const max = f.size === 2 ? 0xffff : 0xffffffff;
    const v = pick([0, 1, old + 1, old - 1, old * 2, max, max - 1, randInt(max), c.length]);
    const value = Math.max(0, Math.min(max, v));
    if (f.size === 2) c.writeUInt16LE(value, f.at);
    else c.writeUInt32LE(value, f.at);
    return { bytes: c, how: 'tag-length' };
  }
  if (r < 0.55) return { bytes: base.subarray(0, randInt(base.length)), how: 'truncate' };
  if (r < 0.85) {
    const c = Buffer.from(base);
    // Flip bytes mostly in the header (where the parser's decisions are), sometimes anywhere.
    const span = rand() < 0.7 ? Math.min(c.length, 1200) : c.length;
    for (let i = 0, k = 1 + randInt(8); i < k; i++) c[randInt(span)] = randInt(256);
    return { bytes: c, how: 'flip' };
  }
  if (r < 0.93) {
    const at = 128 + randInt(Math.max(1, Math.min(base.length, 1200) - 128));
    return {
      bytes: Buffer.concat([base.subarray(0, at), randomBytes(1 + randInt(64)), base.subarray(at)]),
      how: 'insert',
    };
  }
  if (r < 0.97) return { bytes: randomBytes(randInt(4096)), how: 'random' };
  return {
    bytes: Buffer.concat([base.subarray(0, 132), randomBytes(randInt(2048))]),
    how: 'preamble+random',
  };
}

async function dicomLanes(
  port: number,
  adminToken: string,
  budget: { left: number },
  alive: () => boolean,
): Promise<void> {
  const bases = [
    makeSyntheticChestDicom({ rows: 64, columns: 64, seed: 1 }),
    makeSyntheticChestDicom({ rows: 64, columns: 48, seed: 2, transferSyntax: RLE_LOSSLESS }),
    makeSyntheticChestDicom({ rows: 32, columns: 32, seed: 3, bitsAllocated: 8, bitsStored: 8 }),
    makeSyntheticChestDicom({ rows: 32, columns: 32, seed: 4, transferSyntax: IMPLICIT_VR_LE }),
  ].map((b) => Buffer.from(b));
  const fields = bases.map(lengthFields);
  let n = 0;
  const lane = async () => {
    while (budget.left > 0 && alive()) {
      budget.left--;
      const which = randInt(bases.length);
      const { bytes, how } = mutateDicom(bases[which]!, fields[which]!);
      const id = n++;
      let status: number | string;
      let body = '';
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/scans?fileName=fuzz-${id}.dcm`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/dicom' },
          body: new Uint8Array(bytes),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = res.status;
        body = await res.text();
      } catch (e) {
        status = (e as Error).name === 'TimeoutError' ? 'timeout' : `error ${(e as Error).message}`;
      }
      bump(counts.dicomStatus, status);
      if (typeof status === 'string') {
        if (status === 'timeout') counts.dicomTimeouts++;
        const file = saveFailure(`dicom-${id}-${how}.dcm`, bytes);
        failures.push(`DICOM upload ${status} (${how}), input: ${file}`);
        continue;
      }
      if (status >= 500) {
        counts.dicom5xx++;
        const file = saveFailure(`dicom-${id}-${how}-${status}.dcm`, bytes);
        failures.push(`DICOM upload ${status} (${how}): ${body.slice(0, 200)}; input: ${file}`);
      } else if (status >= 400) {
        let clear = false;
        try {
          const err = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
          clear = typeof err?.code === 'string' && typeof err.message === 'string' && err.message.length > 0;
        } catch {}
        if (!clear) {
          counts.dicomUnclear++;
          if (counts.dicomUnclear <= 5)
            failures.push(`DICOM ${status} without {error:{code,message}}: ${body.slice(0, 200)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: DICOM_LANES }, lane));
}

// ---- the end: real clients still work -----------------------------------------------------------

async function realClientsSync(port: number, plan: Plan, r: number): Promise<string> {
  const { sessionId, scanId } = plan.rooms[r]!;
  const base = Date.now() + 1e9;
  const times = new RoomTimes(1, 0, true);
  const recorder = new Recorder(0, 0);
  const observer = new MoveObserver(times, recorder);
  const make = (i: number, obs: MoveObserver | undefined) => {
    const m = plan.members[i]!;
    const url = `ws://127.0.0.1:${port}/yjs/${sessionId}/${scanId}?token=${m.token}&v=1`;
    return new FullClient(
      { target: 'server', url, room: times, recorder, base },
      `${sessionId}/${scanId}`,
      m.token,
      presenceFor(m.id, i),
      m.id,
      obs,
      () => 0,
    );
  };
  const watcher = make(2, observer);
  const mover = make(1, undefined);
  try {
    const ready = await Promise.race([
      Promise.all([watcher.ready, mover.ready]).then(() => true),
      sleep(10_000).then(() => false),
    ]);
    if (!ready) return 'did not sync within 10 s';
    times.moveSent[0] = performance.now();
    times.movesSent = 1;
    mover.sendMove(0);
    const started = performance.now();
    while (!observer.hasSeen(0) && performance.now() - started < 10_000) await sleep(10);
    return observer.hasSeen(0)
      ? `ok (move seen in ${(performance.now() - started).toFixed(0)} ms)`
      : 'move not seen in 10 s';
  } finally {
    watcher.close();
    mover.close();
  }
}

// ---- main -------------------------------------------------------------------------------------

const rssOf = (pid: number) => {
  try {
    return memory(pid);
  } catch {
    return { rss: 0, hwm: 0 };
  }
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const sorted = <K>(m: Map<K, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `    ${String(k).padEnd(44)} ${v}`)
    .join('\n');

async function main(): Promise<void> {
  process.setMaxListeners(0);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-fuzz-'));
  guard(MAX_MINUTES * 60_000, () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const started = performance.now();
  let errorLines = 0;
  let firstError = '';
  let crashes = 0;
  const launch = async () => {
    const child = await startServer(port, dataDir);
    child.onOutput = (chunk) => {
      for (const line of chunk.split('\n')) {
        if (/"level":(50|60)/.test(line)) {
          errorLines++;
          firstError ||= line.slice(0, 400);
        }
      }
    };
    return child;
  };
  let server = await launch();
  try {
    const plan = await setUpServer(`http://127.0.0.1:${port}`, 2, Math.random().toString(36).slice(2, 8));
    const admin = await login(`http://127.0.0.1:${port}`, ADMIN.username, ADMIN.password);
    const rssBefore = memory(server.pid).rss;
    console.log(
      `server pid ${server.pid} on :${port}, RSS ${mb(rssBefore)}; ${FRAMES} frames, ${DICOMS} DICOM files`,
    );

    const check = async (what: string) => {
      if (server.exited || !(await healthy(port))) {
        counts.healthFailures++;
        const file = saveFailure(`recent-frames-${Date.now()}.json`, JSON.stringify(recent, null, 1));
        failures.push(
          `health check failed after ${what} (server ${server.exited ? 'exited' : 'alive'}); last frames: ${file}`,
        );
        if (server.exited) {
          crashes++;
          const out = server.output;
          const tail = out.slice(Math.max(0, out.lastIndexOf('"level":40') + 1), out.length).slice(-1500);
          saveFailure(`server-output-${Date.now()}.txt`, server.output);
          failures.push(`server output tail:\n${tail.slice(tail.indexOf('\n') + 1)}`);
          children.delete(server);
          // Go on with a restarted server (same DATA_DIR), so the run still covers every input.
          if (crashes <= Number(args['max-crashes'])) {
            server = await launch();
            console.log(`\nserver crashed (${crashes}), restarted as pid ${server.pid}`);
          }
        } else {
          await server.stop();
          children.delete(server);
          server = await launch();
        }
      }
    };

    // Frames, in batches with a health check after each.
    const frameStart = performance.now();
    while (counts.framesSent < FRAMES && !server.exited) {
      const left = Math.min(BATCH_FRAMES, FRAMES - counts.framesSent);
      await frameLanes(port, plan, { left }, () => !server.exited);
      await check(`${counts.framesSent} frames`);
      process.stdout.write(`\rframes ${counts.framesSent}, RSS ${mb(rssOf(server.pid).rss)}   `);
    }
    const frameSeconds = (performance.now() - frameStart) / 1000;
    console.log();
    const rssAfterFrames = rssOf(server.pid).rss;

    const dicomStart = performance.now();
    let uploads = 0;
    while (uploads < DICOMS && !server.exited) {
      const budget = { left: Math.min(BATCH_DICOM, DICOMS - uploads) };
      const before = budget.left;
      await dicomLanes(port, admin.token, budget, () => !server.exited);
      uploads += before - budget.left;
      await check(`${uploads} DICOM uploads`);
      process.stdout.write(`\rDICOM ${uploads}, RSS ${mb(rssOf(server.pid).rss)}   `);
    }
    const dicomSeconds = (performance.now() - dicomStart) / 1000;
    console.log();

    const syncFuzzed = server.exited ? 'server dead' : await realClientsSync(port, plan, 0);
    const syncFresh = server.exited ? 'server dead' : await realClientsSync(port, plan, 1);
    const rssAfter = rssOf(server.pid).rss;
    const hwm = rssOf(server.pid).hwm;

    console.log(`\n== y-websocket: ${counts.yFrames} frames over ${counts.yConnections} connections`);
    console.log('  how connections ended:');
    console.log(sorted(counts.yClose));
    console.log('  frame kinds (kind:first mutator):');
    console.log(sorted(counts.yKinds));
    console.log(`\n== socket.io: ${counts.sioFrames} packets over ${counts.sioConnections} connections`);
    console.log('  how connections ended:');
    console.log(sorted(counts.sioClose));
    console.log('  packet kinds:');
    console.log(sorted(counts.sioKinds));
    console.log(
      `\nframes: ${counts.framesSent} in ${frameSeconds.toFixed(1)} s = ${(counts.framesSent / frameSeconds).toFixed(0)} frames/s, ` +
        `${((counts.yConnections + counts.sioConnections) / frameSeconds).toFixed(0)} connections/s; hangs: ${counts.hangs}`,
    );
    console.log(
      `\n== DICOM: ${uploads} uploads in ${dicomSeconds.toFixed(1)} s = ${(uploads / dicomSeconds).toFixed(0)}/s`,
    );
    console.log(sorted(counts.dicomStatus));
    console.log(
      `  5xx: ${counts.dicom5xx}, timeouts: ${counts.dicomTimeouts}, 4xx without {error:{code,message}}: ${counts.dicomUnclear}`,
    );
    console.log(
      `\nserver crashes: ${crashes}; health check failures: ${counts.healthFailures}; server error log lines: ${errorLines}`,
    );
    if (firstError) console.log(`  first: ${firstError}`);
    console.log(`real clients after the fuzz: fuzzed room ${syncFuzzed}; fresh room ${syncFresh}`);
    if (closes.length > 0) console.log(`unexpected closes of real clients: ${closes.join('; ')}`);
    console.log(
      `server RSS: before ${mb(rssBefore)}, after frames ${mb(rssAfterFrames)}, after DICOM ${mb(rssAfter)} (peak ${mb(hwm)})`,
    );
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const ok =
      failures.length === 0 &&
      syncFuzzed.startsWith('ok') &&
      syncFresh.startsWith('ok') &&
      counts.dicomUnclear === 0;
    if (!ok) console.log(`\nFAILURES (${failures.length}):\n  ${failures.slice(0, 30).join('\n  ')}`);
    else console.log('\nPASS: no crash, no hang, no 5xx, every refusal a clear error');
    process.exitCode = ok ? 0 : 1;
  } finally {
    await server.stop();
    children.delete(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
