/**
 * Live panel benchmark (issue 5), in one run:
 *
 * 1. Lock latency under load: one server (SQLite) with R rooms x 6 clients under the load of
 *    bench/collab-load.ts (one box dragged at 30 moves/s, one cursor at 15/s per room); during
 *    the measured window the moderator locks K rooms one after another, evenly spaced, through
 *    `POST /api/sessions/:sid/scans/:scanId/lock`. Reports the HTTP latency (p50/p99/max) and
 *    checks that each locked room then refuses moves (its mover is closed with 4409), that no
 *    move sent after the lock answered was accepted, and that no move sent before it was lost.
 * 2. Cross-node against single-node: two PostgreSQL + Redis server processes on two ports;
 *    (a) single node: the 6 clients of each room on node A; (b) cross-node: the mover on node A,
 *    the other five on node B (updates and awareness reach B through Redis pub/sub). Same
 *    rooms, same load; reports move propagation p50/p95/p99 and lost moves of both, and the
 *    ratio cross-node p99 / single-node p99 (target <= 2x).
 *
 *   npx tsx bench/live-load.ts [--rooms 200] [--cross-rooms 50] [--seconds 20] [--locks 40]
 *                              [--part both|lock|cross] [--rounds 1] [--full-rooms 3]
 *
 * Only 127.0.0.1 is targeted; the run is bounded in time and stops by itself. The PostgreSQL
 * schema and the Redis keys are unique to the run and removed at the end (never FLUSHALL).
 * Results also go to bench/results/ as JSON.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { createClient } from 'redis';
import {
  type BenchClient,
  type ClientContext,
  type CursorMover,
  FullClient,
  LightClient,
  type Mover,
  closes,
} from './load/clients.js';
import { Child, MachineSampler, ProcSampler, cpuSeconds, freePort, memory } from './load/proc.js';
import { MoveObserver, type Percentiles, Recorder, RoomTimes, percentiles } from './load/recorder.js';
import { ADMIN, type Plan, inBatches, setUpServer } from './load/setup.js';
import { encodeCursorFrames, encodeMoveFrames, presenceFor } from './load/wire.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOVES_PER_SECOND = 30;
const CURSORS_PER_SECOND = 15;
const MODERATOR = 0;
const MOVER = 1;
const CURSOR = 2;
/** Client ids of light clients (index = panel member); 5-byte varUints like random 32-bit ids. */
const LIGHT_IDS = [0, 1, 2, 3, 4, 5].map((i) => 0x3e800000 + i);
const LOCKED_CODE = 4409;

const { values: args } = parseArgs({
  options: {
    /** Rooms of the lock part (SQLite, one node). */
    rooms: { type: 'string', default: '200' },
    /** Rooms of the cross-node part (PostgreSQL + Redis); default: min(--rooms, 50). */
    'cross-rooms': { type: 'string', default: '' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'full-rooms': { type: 'string', default: '3' },
    /** Rooms locked one after another during the measured window of the lock part. */
    locks: { type: 'string', default: '40' },
    part: { type: 'string', default: 'both' },
    /** Repeat each part (single and cross-node alternate: compare like with like). */
    rounds: { type: 'string', default: '1' },
    /** Before each load, wait up to this many seconds for the rest of the machine to idle. */
    'quiet-wait': { type: 'string', default: '60' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    /** A checkout to run the server from (e.g. a git worktree of a fixed commit); default: this one. */
    'server-root': { type: 'string', default: '' },
    /** Where the servers' DATA_DIRs are made. */
    'data-root': { type: 'string', default: os.tmpdir() },
  },
});

function positiveInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const ROOMS = positiveInt(args.rooms, 'rooms');
const CROSS_ROOMS = args['cross-rooms']
  ? positiveInt(args['cross-rooms'], 'cross-rooms')
  : Math.min(ROOMS, 50);
const SECONDS = positiveInt(args.seconds, 'seconds');
const WARMUP = Number(args.warmup);
const FULL_ROOMS = Number(args['full-rooms']);
const LOCKS = Math.min(ROOMS, positiveInt(args.locks, 'locks'));
const ROUNDS = positiveInt(args.rounds, 'rounds');
const PARTS = args.part === 'both' ? ['lock', 'cross'] : [args.part];
for (const url of [args['database-url'], args['redis-url']]) {
  if (!/^[a-z]+:\/\/([^@/]*@)?127\.0\.0\.1[:/]/.test(url ?? '')) throw new Error(`127.0.0.1 only: ${url}`);
}
if (
  !PARTS.every((p) => p === 'lock' || p === 'cross') ||
  ROUNDS > 5 ||
  SECONDS > 120 ||
  ROOMS > 1000 ||
  CROSS_ROOMS > 1000 ||
  !(WARMUP >= 0 && WARMUP <= 30) ||
  !(FULL_ROOMS >= 0)
) {
  throw new Error(
    'bounded runs only: --part both|lock|cross, --seconds <= 120, --rooms <= 1000, --rounds <= 5',
  );
}
const TOTAL_MOVES = Math.round((WARMUP + SECONDS) * MOVES_PER_SECOND);
const TOTAL_CURSORS = Math.round((WARMUP + SECONDS) * CURSORS_PER_SECOND);
/** Extra moves a locked room's mover may send after the load, to see it refused. */
const PROBE_MOVES = 20;
const MOVE_PERIOD = 1000 / MOVES_PER_SECOND;
const CURSOR_PERIOD = 1000 / CURSORS_PER_SECOND;
const RUN_ID = randomBytes(4).toString('hex');

// Every WebsocketProvider adds a process 'exit' listener.
process.setMaxListeners(0);

const children = new Set<Child>();
const killAll = () => {
  for (const child of children) child.kill();
};
process.on('exit', killAll);
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
// Hard bound on the whole run, whatever happens (cleanup included).
const deadline = setTimeout(
  () => {
    console.error('bench: deadline passed, stopping');
    killAll();
    process.exit(3);
  },
  (ROUNDS * (PARTS.includes('lock') ? 1 : 0) + 2 * ROUNDS * (PARTS.includes('cross') ? 1 : 0)) *
    (240 + WARMUP + SECONDS) *
    1000 +
    60_000,
);

// ---------------------------------------------------------------------------------------------
// Servers

interface Node {
  readonly name: string;
  readonly port: number;
  readonly child: Child;
  readonly dataDir: string;
}

async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(args['data-root'] ?? os.tmpdir(), `cxr-live-${name}-`));
  const child = new Child(
    ['--import', 'tsx', path.join(args['server-root'] || ROOT, 'server/src/cli.ts'), 'serve'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
      ...env,
    },
    ROOT,
  );
  children.add(child);
  await child.waitReady(async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok, 60_000);
  return { name, port, child, dataDir };
}

async function stopNode(node: Node): Promise<string[]> {
  await node.child.stop();
  children.delete(node.child);
  fs.rmSync(node.dataDir, { recursive: true, force: true });
  return node.child.output.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
}

/** Waits (bounded) until the machine, with our idle clients and servers, uses < 25% of a core. */
async function waitQuiet(maxSeconds: number): Promise<void> {
  const started = performance.now();
  let told = false;
  while (performance.now() - started < maxSeconds * 1000) {
    const machine = new MachineSampler();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = machine.stop();
    if (busy < 25) return;
    if (!told) process.stdout.write(`(machine busy: ${busy.toFixed(0)}% of a core; waiting) `);
    told = true;
  }
}

/**
 * CPU of the shared services the servers use (every `postgres` process, and the Redis server on
 * the port of --redis-url), so that "other CPU" is what the rest of the machine used. Processes
 * that start or end inside the window are missed; PostgreSQL may also serve other test runs.
 */
class ServicesSampler {
  private start = new Map<number, number>();
  private wallStart = 0;

  private static pids(): number[] {
    const redisPort = new URL(args['redis-url'] ?? '').port || '6379';
    const pids: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (comm === 'postgres') pids.push(Number(entry));
        else if (comm === 'redis-server') {
          const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
          if (cmd.includes(`:${redisPort}`)) pids.push(Number(entry));
        }
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  }

  private static read(pids: Iterable<number>): Map<number, number> {
    const cpu = new Map<number, number>();
    for (const pid of pids) {
      try {
        cpu.set(pid, cpuSeconds(pid));
      } catch {
        // gone meanwhile
      }
    }
    return cpu;
  }

  restart(): void {
    this.start = ServicesSampler.read(ServicesSampler.pids());
    this.wallStart = performance.now();
  }

  /** % of one core over the window. */
  stop(): number {
    const end = ServicesSampler.read(this.start.keys());
    let used = 0;
    for (const [pid, t] of end) used += t - (this.start.get(pid) ?? t);
    return (100 * used) / ((performance.now() - this.wallStart) / 1000);
  }
}

// ---------------------------------------------------------------------------------------------
// Rooms and load (the same traffic as bench/collab-load.ts)

interface RoomRun {
  readonly index: number;
  readonly times: RoomTimes;
  readonly mover: Mover;
  readonly cursor: CursorMover;
  readonly observers: MoveObserver[];
  readonly clients: BenchClient[];
  /** Set once the room is locked: the mover stops when it is refused. */
  lock?: LockRecord;
}

interface LockRecord {
  readonly room: number;
  readonly full: boolean;
  /** Moves sent before the request left (all of them must be seen). */
  readonly sentBefore: number;
  /** Moves sent before the answer arrived (any later one must be refused). */
  sentByAnswer: number;
  status: number;
  latencyMs: number;
  error?: string;
  /** The close code of the mover after the lock, and when it came (ms after the answer). */
  closeCode?: number;
  closeAfterMs?: number;
  answeredAt: number;
  /** Moves the mover sent in all (the last one is the one refused). */
  sentAtClose?: number;
}

/** The room of each lock record. */
const roomsOf = new Map<LockRecord, RoomRun>();

function buildRoom(
  ports: { mover: number; others: number },
  plan: Plan,
  r: number,
  recorder: Recorder,
  base: number,
  lightFrames: { moves: Buffer[]; awareness: Buffer[][] },
  fullRooms: number,
): RoomRun {
  const { sessionId, scanId } = plan.rooms[r]!;
  const full = r < fullRooms;
  const times = new RoomTimes(TOTAL_MOVES + PROBE_MOVES, TOTAL_CURSORS, full);
  const observers: MoveObserver[] = [];
  const clients: Array<BenchClient & Mover & CursorMover> = [];
  const run: RoomRun = {
    index: r,
    times,
    observers,
    clients,
    get mover() {
      return clients[MOVER]!;
    },
    get cursor() {
      return clients[CURSOR]!;
    },
  };
  for (const [i, member] of plan.members.entries()) {
    const port = i === MOVER ? ports.mover : ports.others;
    const url = `ws://127.0.0.1:${port}/yjs/${sessionId}/${scanId}?token=${member.token}&v=1`;
    const onClose =
      i === MOVER
        ? (code: number) => {
            const lock = run.lock;
            if (!lock || code !== LOCKED_CODE || lock.closeCode !== undefined) return false;
            lock.closeCode = code;
            lock.closeAfterMs = performance.now() - lock.answeredAt;
            lock.sentAtClose = times.movesSent;
            // As the real client does after 4409: drop the refused change (here: the client).
            setImmediate(() => clients[MOVER]?.close());
            return true;
          }
        : undefined;
    const ctx: ClientContext = { target: 'server', url, room: times, recorder, base, onClose };
    const observer = i === MOVER ? undefined : new MoveObserver(times, recorder);
    if (observer) observers.push(observer);
    if (full) {
      const presence = presenceFor(member.id, i);
      const cursorId = () => (clients[CURSOR] as FullClient).clientId;
      clients.push(
        new FullClient(ctx, `${sessionId}/${scanId}`, member.token, presence, member.id, observer, cursorId),
      );
    } else {
      const moveFrames = i === MOVER ? lightFrames.moves : undefined;
      clients.push(
        new LightClient(
          ctx,
          LIGHT_IDS[i]!,
          lightFrames.awareness[i]!,
          moveFrames,
          observer,
          LIGHT_IDS[CURSOR]!,
        ),
      );
    }
  }
  return run;
}

/** Sends every move and cursor move at its time; rooms are spread evenly over each period. */
function drive(rooms: RoomRun[], onMeasureStart: (t: number) => void): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now() + 50;
    const phase = rooms.map((_, r) => (r / rooms.length) * MOVE_PERIOD);
    const cursorPhase = rooms.map((_, r) => ((r + 0.5) / rooms.length) * CURSOR_PERIOD);
    let measuring = false;
    const tick = () => {
      const now = performance.now();
      if (!measuring && now >= t0 + WARMUP * 1000) {
        measuring = true;
        onMeasureStart(now);
      }
      let done = true;
      for (const [r, room] of rooms.entries()) {
        const times = room.times;
        // A locked room's mover sends until it is refused, then stops.
        const stopped = room.lock?.closeCode !== undefined;
        while (
          !stopped &&
          times.movesSent < TOTAL_MOVES &&
          t0 + phase[r]! + times.movesSent * MOVE_PERIOD <= now
        ) {
          const seq = times.movesSent++;
          times.moveSent[seq] = performance.now();
          room.mover.sendMove(seq);
        }
        while (
          times.cursorsSent < TOTAL_CURSORS &&
          t0 + cursorPhase[r]! + times.cursorsSent * CURSOR_PERIOD <= now
        ) {
          const move = times.cursorsSent++;
          times.cursorSent[move] = performance.now();
          room.cursor.sendCursor(move);
        }
        if ((!stopped && times.movesSent < TOTAL_MOVES) || times.cursorsSent < TOTAL_CURSORS) done = false;
      }
      if (done) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
}

/** Moves an observer of this room should have seen (a locked room: those sent before the lock). */
function expectedMoves(room: RoomRun): number {
  return room.lock ? room.lock.sentBefore : room.times.movesSent;
}

function missingMoves(room: RoomRun): number {
  const upTo = expectedMoves(room);
  let n = 0;
  for (const o of room.observers) for (let seq = 0; seq < upTo; seq++) if (!o.hasSeen(seq)) n++;
  return n;
}

/**
 * Lock requests go out from a worker thread, so the load generator's own event-loop delay does
 * not count as lock latency.
 */
function lockWorker(): Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', async ({ id, url, token }) => {
      const started = performance.now();
      try {
        const res = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer ' + token } });
        const text = await res.text();
        parentPort.postMessage({ id, status: res.status, ms: performance.now() - started, body: text.slice(0, 300) });
      } catch (error) {
        parentPort.postMessage({ id, status: 0, ms: performance.now() - started, body: String(error) });
      }
    });`;
  return new Worker(code, { eval: true });
}

interface LoadResult {
  readonly movesSent: number;
  readonly expectedObservations: number;
  readonly lost: number;
  readonly anomalies: number;
  readonly closes: number;
  readonly move: Percentiles;
  readonly fullRoomMove: Percentiles;
  readonly cursor: Percentiles;
  /** Per node, % of one core over the measured window. */
  readonly serverCpuPercent: Record<string, number>;
  readonly serverHwmMb: Record<string, number>;
  readonly loadgenCpuPercent: number;
  readonly loadgenLagP99Ms: number;
  /** PostgreSQL and Redis processes (% of one core). */
  readonly servicesCpuPercent: number;
  /** CPU used by everything else on the machine during the window (% of one core). */
  readonly otherCpuPercent: number;
  readonly drainSeconds: number;
  /** Worst move latency (ms) per 250 ms of the measured window. */
  readonly timeline: number[];
}

/**
 * Connects every room (mover to `moverNode`, the others to `otherNode`), runs warm-up + the
 * measured window, optionally with locks during it, drains and closes.
 */
async function runLoad(
  label: string,
  nodes: { mover: Node; others: Node },
  plan: Plan,
  roomsCount: number,
  locks?: { count: number; records: LockRecord[] },
): Promise<LoadResult> {
  const fullRooms = Math.min(roomsCount, FULL_ROOMS);
  const base = Date.now();
  const mover = plan.members[MOVER]!;
  const lightFrames = {
    moves: encodeMoveFrames(LIGHT_IDS[MOVER]!, mover.id, TOTAL_MOVES + PROBE_MOVES, base),
    awareness: plan.members.map((m, i) =>
      encodeCursorFrames(LIGHT_IDS[i]!, presenceFor(m.id, i), i === CURSOR ? TOTAL_CURSORS : 0),
    ),
  };
  const recorder = new Recorder(WARMUP * MOVES_PER_SECOND, WARMUP * CURSORS_PER_SECOND);
  const closesBefore = closes.length;
  const ports = { mover: nodes.mover.port, others: nodes.others.port };
  const serverNodes = nodes.mover === nodes.others ? [nodes.mover] : [nodes.mover, nodes.others];

  process.stdout.write(`[${label}] connecting ${roomsCount * 6} clients (${fullRooms} full rooms)... `);
  const rooms: RoomRun[] = new Array(roomsCount);
  const connectStarted = performance.now();
  const connected = inBatches(roomsCount, 8, async (r) => {
    rooms[r] = buildRoom(ports, plan, r, recorder, base, lightFrames, fullRooms);
    await Promise.all(rooms[r].clients.map((c) => c.ready));
  });
  let connectTimer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    connectTimer = setTimeout(() => {
      const tail = serverNodes.map((n) => n.child.output.slice(-1500)).join('\n---\n');
      reject(new Error(`clients did not get ready in 90 s; closes: ${closes.slice(-5).join('; ')}\n${tail}`));
    }, 90_000);
  });
  await Promise.race([connected, timedOut]).finally(() => clearTimeout(connectTimer));
  console.log(`${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);
  // Let the join-time awareness exchange settle.
  await new Promise((r) => setTimeout(r, 1500));

  await waitQuiet(Number(args['quiet-wait']));
  process.stdout.write(`[${label}] load: ${WARMUP} s warm-up + ${SECONDS} s measured... `);
  const samplers = serverNodes.map((n) => new ProcSampler(n.child.pid));
  const machine = new MachineSampler();
  const services = new ServicesSampler();
  const lag = monitorEventLoopDelay({ resolution: 5 });
  let loadgenCpu = process.cpuUsage();
  let loadgenWall = performance.now();

  // Locks: K rooms spread over all rooms, one after another, evenly spaced over the window.
  let locking: Promise<void> = Promise.resolve();
  const worker = locks ? lockWorker() : undefined;
  const lockStarts: Promise<void>[] = [];
  const answers = new Map<number, (reply: { status: number; ms: number; body: string }) => void>();
  worker?.on('message', (reply: { id: number; status: number; ms: number; body: string }) => {
    answers.get(reply.id)?.(reply);
    answers.delete(reply.id);
  });
  const lockOne = async (k: number, room: RoomRun) => {
    const { sessionId, scanId } = plan.rooms[room.index]!;
    const record: LockRecord = {
      room: room.index,
      full: room.index < fullRooms,
      sentBefore: room.times.movesSent,
      sentByAnswer: 0,
      status: 0,
      latencyMs: Number.NaN,
      answeredAt: Number.NaN,
    };
    room.lock = record;
    roomsOf.set(record, room);
    locks!.records.push(record);
    const reply = await new Promise<{ status: number; ms: number; body: string }>((resolve) => {
      answers.set(k, resolve);
      worker!.postMessage({
        id: k,
        url: `http://127.0.0.1:${nodes.mover.port}/api/sessions/${sessionId}/scans/${scanId}/lock`,
        token: plan.members[MODERATOR]!.token,
      });
    });
    record.answeredAt = performance.now();
    record.sentByAnswer = room.times.movesSent;
    record.status = reply.status;
    record.latencyMs = reply.ms;
    if (reply.status !== 200) record.error = reply.body;
  };

  await drive(rooms, (t) => {
    for (const s of samplers) s.start();
    machine.restart();
    services.restart();
    recorder.measureStart = t;
    lag.enable();
    loadgenCpu = process.cpuUsage();
    loadgenWall = performance.now();
    if (!locks) return;
    // Within the first 85% of the window, so that every locked mover still has moves to send.
    const spacing = (0.85 * SECONDS * 1000) / locks.count;
    for (let k = 0; k < locks.count; k++) {
      const room = rooms[Math.floor(((k + 0.5) * roomsCount) / locks.count)]!;
      lockStarts.push(
        new Promise<void>((resolve) => {
          setTimeout(
            () => {
              // One after another: a lock waits for the previous one to answer.
              locking = locking.then(() => lockOne(k, room));
              resolve();
            },
            (k + 0.5) * spacing,
          );
        }),
      );
    }
  });
  const usage = samplers.map((s) => s.stop());
  const machinePercent = machine.stop();
  const servicesCpuPercent = services.stop();
  lag.disable();
  const cpuDelta = process.cpuUsage(loadgenCpu);
  const loadgenCpuPercent =
    ((cpuDelta.user + cpuDelta.system) / 1000 / (performance.now() - loadgenWall)) * 100;
  await Promise.all(lockStarts);
  await locking;
  // A lock that answered after its mover's last move: probe with a few more moves (one per
  // 100 ms) until the mover is refused.
  for (let probe = 0; probe < PROBE_MOVES; probe++) {
    const pending = rooms.filter((room) => room.lock?.status === 200 && room.lock.closeCode === undefined);
    if (pending.length === 0) break;
    for (const room of pending) {
      const seq = room.times.movesSent++;
      room.times.moveSent[seq] = performance.now();
      room.mover.sendMove(seq);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // Drain: every observer should see every move it should (a backlogged server gets up to 30 s).
  const drainStarted = performance.now();
  const missing = () => rooms.reduce((n, room) => n + missingMoves(room), 0);
  while (missing() > 0 && performance.now() - drainStarted < 30_000)
    await new Promise((r) => setTimeout(r, 50));
  // A locked mover's refusal comes with its next move (33 ms later): give stragglers a moment.
  if (locks) await new Promise((r) => setTimeout(r, 500));
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  console.log(`drained in ${drainSeconds.toFixed(2)} s`);
  await worker?.terminate();

  const hwm = serverNodes.map((n) => memory(n.child.pid).hwm);
  for (const room of rooms) for (const c of room.clients) c.close();
  const movesSent = rooms.reduce((n, room) => n + room.times.movesSent, 0);
  const expectedObservations = rooms.reduce((n, room) => n + expectedMoves(room) * 5, 0);
  const serverCpu = usage.reduce((n, u) => n + u.cpuPercent, 0);
  const result: LoadResult = {
    movesSent,
    expectedObservations,
    lost: missing(),
    anomalies: recorder.anomalies,
    closes: closes.length - closesBefore,
    move: percentiles(recorder.moveLatency),
    fullRoomMove: percentiles(recorder.fullMoveLatency),
    cursor: percentiles(recorder.cursorLatency),
    serverCpuPercent: Object.fromEntries(serverNodes.map((n, i) => [n.name, usage[i]!.cpuPercent])),
    serverHwmMb: Object.fromEntries(serverNodes.map((n, i) => [n.name, hwm[i]! / 2 ** 20])),
    loadgenCpuPercent,
    loadgenLagP99Ms: lag.percentile(99) / 1e6,
    servicesCpuPercent,
    otherCpuPercent: Math.max(0, machinePercent - serverCpu - loadgenCpuPercent - servicesCpuPercent),
    drainSeconds,
    timeline: Array.from(recorder.timeline, (v) => Math.round((v ?? 0) * 10) / 10),
  };
  if (result.closes > 0) {
    console.log(
      `[${label}] unexpected closes:\n  ${closes.slice(closesBefore, closesBefore + 10).join('\n  ')}`,
    );
  }
  if (result.otherCpuPercent > 30) {
    console.log(
      `[${label}] WARNING: the rest of the machine used ${result.otherCpuPercent.toFixed(0)}% of a core during the window`,
    );
  }
  await new Promise((r) => setTimeout(r, 300));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Part 1: lock latency under load

interface LockPartResult extends LoadResult {
  readonly round: number;
  readonly rooms: number;
  readonly locks: number;
  readonly locked: number;
  readonly lockLatency: Percentiles;
  /** Locked rooms whose mover was then closed with 4409. */
  readonly refused: number;
  /** Moves sent after a lock answered that an observer nevertheless saw (must be 0). */
  readonly acceptedAfterLock: number;
  /** Moves sent while the lock request was in flight and accepted (allowed: before the freeze). */
  readonly acceptedDuringLock: number;
  readonly records: LockRecord[];
  readonly warnings: number;
}

const lockWarnings = new Map<object, number>();

async function lockPart(round: number): Promise<LockPartResult> {
  const node = await startNode('sqlite', {});
  let result: Omit<LockPartResult, 'warnings'> | undefined;
  try {
    const plan = await setUpServer(`http://127.0.0.1:${node.port}`, ROOMS, `${RUN_ID}l${round}`);
    const records: LockRecord[] = [];
    const load = await runLoad(`lock #${round}`, { mover: node, others: node }, plan, ROOMS, {
      count: LOCKS,
      records,
    });
    result = { round, rooms: ROOMS, locks: LOCKS, ...lockSummary(records, load) };
  } finally {
    const warnings = await stopNode(node);
    if (result) lockWarnings.set(result, warnings.length);
    if (warnings.length > 0) {
      console.log(
        `[lock #${round}] server: ${warnings.length} warnings, first: ${warnings[0]?.slice(0, 300)}`,
      );
      const kinds = new Map<string, number>();
      for (const w of warnings) {
        const msg = /"msg":"([^"]*)"/.exec(w)?.[1] ?? '?';
        const close = /"close":"([^"]*)"/.exec(w)?.[1] ?? '';
        kinds.set(`${msg} ${close}`, (kinds.get(`${msg} ${close}`) ?? 0) + 1);
      }
      console.log(`  by kind: ${[...kinds].map(([k, n]) => `${k.trim()} x${n}`).join('; ')}`);
    }
  }
  return { ...result, warnings: lockWarnings.get(result) ?? 0 };

  function lockSummary(records: LockRecord[], load: LoadResult) {
    // Which moves did the observers see, around each lock?
    let acceptedAfterLock = 0;
    let acceptedDuringLock = 0;
    for (const rec of records) {
      const room = roomsOf.get(rec);
      if (!room) continue;
      for (const o of room.observers) {
        for (let seq = rec.sentBefore; seq < room.times.movesSent; seq++) {
          if (!o.hasSeen(seq)) continue;
          if (seq >= rec.sentByAnswer) acceptedAfterLock++;
          else acceptedDuringLock++;
        }
      }
    }
    return {
      ...load,
      locked: records.filter((r) => r.status === 200).length,
      lockLatency: percentiles(records.filter((r) => r.status === 200).map((r) => r.latencyMs)),
      refused: records.filter((r) => r.status === 200 && r.closeCode === LOCKED_CODE).length,
      acceptedAfterLock,
      acceptedDuringLock,
      records,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: cross-node against single-node

interface CrossResult extends LoadResult {
  readonly mode: 'single' | 'cross';
  readonly round: number;
  readonly rooms: number;
}

async function crossPart(): Promise<{ results: CrossResult[]; warnings: Record<string, string[]> }> {
  const schema = `bench_live_${RUN_ID}`;
  const prefix = `bench-live-${RUN_ID}:`;
  const env = {
    DATABASE_URL: args['database-url']!,
    DATABASE_SCHEMA: schema,
    REDIS_URL: args['redis-url']!,
    REDIS_KEY_PREFIX: prefix,
    TOKEN_SECRET: randomBytes(32).toString('hex'),
  };
  const results: CrossResult[] = [];
  const warnings: Record<string, string[]> = {};
  let a: Node | undefined;
  let b: Node | undefined;
  try {
    // A first: it creates the schema, the tables and the first admin; then B on the same data.
    a = await startNode('A', env);
    b = await startNode('B', env);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['single', 'cross'] as const) {
        const plan = await setUpServer(
          `http://127.0.0.1:${a.port}`,
          CROSS_ROOMS,
          `${RUN_ID}${mode[0]}${round}`,
        );
        const nodes = mode === 'single' ? { mover: a, others: a } : { mover: a, others: b };
        const load = await runLoad(`${mode} #${round}`, nodes, plan, CROSS_ROOMS);
        results.push({ mode, round, rooms: CROSS_ROOMS, ...load });
      }
    }
  } finally {
    for (const node of [a, b]) if (node) warnings[node.name] = await stopNode(node);
    await cleanUp(schema, prefix);
  }
  return { results, warnings };
}

/** Drops the run's schema and deletes the run's Redis keys (by prefix; never FLUSHALL). */
async function cleanUp(schema: string, prefix: string): Promise<void> {
  const db = new pg.Client({ connectionString: args['database-url'] });
  try {
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch (error) {
    console.log(`WARNING: could not drop schema ${schema}: ${String(error)}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  const redis = createClient({ url: args['redis-url'] });
  try {
    await redis.connect();
    let deleted = 0;
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      const batch = Array.isArray(keys) ? keys : [keys];
      if (batch.length > 0) deleted += await redis.unlink(batch);
    }
    if (deleted > 0) console.log(`removed ${deleted} Redis keys under ${prefix}`);
  } catch (error) {
    console.log(`WARNING: could not clean Redis keys under ${prefix}: ${String(error)}`);
  } finally {
    await redis.quit().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function cpuCells(r: LoadResult): string {
  return Object.entries(r.serverCpuPercent)
    .map(([name, v]) => `${name} ${f(v, 0)}`)
    .join(' / ');
}

function lockTable(results: LockPartResult[]): string {
  return table(
    [
      'round',
      'rooms',
      'locked',
      'lock p50 ms',
      'lock p99 ms',
      'lock max ms',
      'refused 4409',
      'accepted after lock',
      'move p50',
      'move p99',
      'lost',
      'server CPU %',
      'loadgen CPU %',
      'loadgen lag p99',
      'other CPU %',
    ],
    results.map((r) => [
      String(r.round),
      String(r.rooms),
      `${r.locked}/${r.locks}`,
      f(r.lockLatency.p50, 1),
      f(r.lockLatency.p99, 1),
      f(r.lockLatency.max, 1),
      `${r.refused}/${r.locked}`,
      String(r.acceptedAfterLock),
      f(r.move.p50, 2),
      f(r.move.p99, 2),
      `${r.lost}/${r.expectedObservations}`,
      cpuCells(r),
      f(r.loadgenCpuPercent, 0),
      f(r.loadgenLagP99Ms, 1),
      f(r.otherCpuPercent, 0),
    ]),
  );
}

function crossTable(results: CrossResult[]): string {
  return table(
    [
      'mode',
      'round',
      'rooms',
      'moves',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'lost',
      'full-room p99',
      'cursor p99',
      'server CPU %',
      'PG+Redis CPU %',
      'loadgen CPU %',
      'other CPU %',
    ],
    results.map((r) => [
      r.mode,
      String(r.round),
      String(r.rooms),
      String(r.movesSent),
      f(r.move.p50, 2),
      f(r.move.p95, 2),
      f(r.move.p99, 2),
      f(r.move.max, 1),
      `${r.lost}/${r.expectedObservations}`,
      f(r.fullRoomMove.p99, 2),
      f(r.cursor.p99, 2),
      cpuCells(r),
      f(r.servicesCpuPercent, 0),
      f(r.loadgenCpuPercent, 0),
      f(r.otherCpuPercent, 0),
    ]),
  );
}

async function main(): Promise<void> {
  console.log(
    `live-load ${RUN_ID}: ${PARTS.join(' + ')}; ${os.cpus().length} cores; ` +
      `${WARMUP} s warm-up + ${SECONDS} s measured per load`,
  );
  const lockResults: LockPartResult[] = [];
  let cross: { results: CrossResult[]; warnings: Record<string, string[]> } | undefined;
  if (PARTS.includes('lock'))
    for (let round = 1; round <= ROUNDS; round++) lockResults.push(await lockPart(round));
  if (PARTS.includes('cross')) cross = await crossPart();

  const load =
    `x 6 clients (${FULL_ROOMS} rooms with WebsocketProvider clients), ${MOVES_PER_SECOND} moves/s + ` +
    `${CURSORS_PER_SECOND} cursor moves/s per room, ${SECONDS} s measured after ${WARMUP} s warm-up`;
  if (lockResults.length > 0) {
    console.log(`\nLock latency under load (SQLite, one node): ${ROOMS} rooms ${load}; ${LOCKS} locks`);
    console.log(lockTable(lockResults));
    for (const r of lockResults) {
      const failed = r.records.filter((x) => x.status !== 200);
      if (failed.length > 0)
        console.log(
          `round ${r.round}: ${failed.length} locks failed, first: ${failed[0]!.status} ${failed[0]!.error}`,
        );
      const notRefused = r.records.filter((x) => x.status === 200 && x.closeCode !== LOCKED_CODE);
      if (notRefused.length > 0)
        console.log(
          `round ${r.round}: rooms not refusing moves after the lock: ${notRefused.map((x) => x.room).join(', ')}`,
        );
      const after = r.records.filter((x) => Number.isFinite(x.closeAfterMs)).map((x) => x.closeAfterMs!);
      console.log(
        `round ${r.round}: mover closed 4409 after the lock answered: p50 ${f(percentiles(after).p50)} ms, ` +
          `max ${f(percentiles(after).max)} ms; moves accepted while the lock was in flight: ${r.acceptedDuringLock}`,
      );
    }
  }
  if (cross) {
    console.log(
      `\nCross-node vs single-node (PostgreSQL + Redis; cross: mover on A, observers on B): ` +
        `${CROSS_ROOMS} rooms ${load}`,
    );
    console.log(crossTable(cross.results));
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const single = cross.results.find((r) => r.mode === 'single' && r.round === round);
      const two = cross.results.find((r) => r.mode === 'cross' && r.round === round);
      if (!single || !two) continue;
      const ratio = two.move.p99 / single.move.p99;
      ratios.push(ratio);
      console.log(
        `round ${round}: cross-node p99 / single-node p99 = ${ratio.toFixed(2)}x (target <= 2x): ` +
          `${ratio <= 2 ? 'met' : 'NOT met'}; lost: single ${single.lost}, cross ${two.lost}`,
      );
    }
    if (ratios.length > 1) {
      const sorted = [...ratios].sort((x, y) => x - y);
      console.log(`median ratio over rounds: ${sorted[Math.floor((sorted.length - 1) / 2)]!.toFixed(2)}x`);
    }
    for (const [name, lines] of Object.entries(cross.warnings)) {
      if (lines.length > 0)
        console.log(`node ${name}: ${lines.length} warnings, first: ${lines[0]?.slice(0, 300)}`);
    }
  }
  const all: LoadResult[] = [...lockResults, ...(cross?.results ?? [])];
  const anomalies = all.reduce((n, r) => n + r.anomalies + r.closes, 0);
  if (anomalies > 0)
    console.log(`\nWARNING: ${anomalies} anomalies (duplicates, unknown moves or unexpected closes)`);
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(
    outDir,
    `live-load-${ROOMS}r-${CROSS_ROOMS}x-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        args,
        runId: RUN_ID,
        cores: os.cpus().length,
        lock: lockResults,
        cross: cross?.results ?? [],
        crossWarnings: cross
          ? Object.fromEntries(Object.entries(cross.warnings).map(([k, v]) => [k, v.length]))
          : {},
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${path.relative(ROOT, file)}`);
}

main()
  .then(() => {
    clearTimeout(deadline);
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error);
    killAll();
    process.exit(1);
  });
