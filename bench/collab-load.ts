/**
 * Collaboration load benchmark: R rooms x 6 clients; in each room one client drags a box at
 * 30 moves/s (each move replaces the finding), one moves its awareness cursor at 15/s, and
 * everyone else watches. Measures move propagation latency (send -> each observer), lost
 * moves, CPU and peak RSS of the server, then the same load against a bare relay
 * (bench/relay-server.ts), in the same run.
 *
 *   npx tsx bench/collab-load.ts [--rooms 50] [--seconds 20] [--full-rooms 3] [--warmup 3]
 *                                [--target both|server|relay] [--rounds N] [--profile]
 *                                [--slice S] [--compare-root DIR] [--compare-env KEY=VALUE]
 *                                [--target-nice N]
 *
 * --slice S starts every target of a round at once and gives them the measured seconds in
 * turns of S seconds, so a machine whose speed drifts weighs on each alike. --compare-root DIR
 * adds a second server run from another checkout (a git worktree of the build before, with
 * node_modules linked), reported as "base", for A/B runs of a change; --compare-env gives that
 * "base" server other settings (an A/B of a setting, from one checkout when alone).
 * --target-nice N runs every target at niceness N, so that on a machine the load generator
 * shares, it waits for a core less often and the targets bear those waits themselves.
 *
 * The first --full-rooms rooms use real WebsocketProvider clients; the other rooms replay the
 * same wire traffic from light clients (pre-encoded frames, moves found by a byte search,
 * awareness echoed as y-websocket 3 does). Only 127.0.0.1 is targeted; the run is bounded in
 * time and stops by itself. Results also go to bench/results/ as JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BenchClient,
  type ClientContext,
  type CursorMover,
  FullClient,
  LightClient,
  type Mover,
  type Target,
  closes,
} from './load/clients.js';
import { Child, MachineSampler, ProcSampler, freePort, memory, tcpOpen } from './load/proc.js';
import {
  MoveObserver,
  type Percentiles,
  Recorder,
  RoomTimes,
  EPISODE_LATE_MS,
  STALL_MIN_SAMPLES,
  STALL_WINDOW_MS,
  type TailShape,
  percentiles,
  tailShape,
} from './load/recorder.js';
import { ADMIN, type Plan, inBatches, setUpServer } from './load/setup.js';
import { encodeCursorFrames, encodeMoveFrames, presenceFor } from './load/wire.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Load generator CPU (% of one core) from which a round's latencies are its own (see main). */
const LOADGEN_SATURATED_PERCENT = 85;
const MOVES_PER_SECOND = 30;
const CURSORS_PER_SECOND = 15;
const MOVER = 1;
const CURSOR = 2;
/** Client ids of light clients (index = panel member); 5-byte varUints like random 32-bit ids. */
const LIGHT_IDS = [0, 1, 2, 3, 4, 5].map((i) => 0x3e800000 + i);

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    'full-rooms': { type: 'string', default: '3' },
    warmup: { type: 'string', default: '3' },
    target: { type: 'string', default: 'both' },
    /** Repeat server and relay alternately (the machine may be shared: compare like with like). */
    rounds: { type: 'string', default: '1' },
    /** Before each load, wait up to this many seconds for the rest of the machine to idle. */
    'quiet-wait': { type: 'string', default: '60' },
    profile: { type: 'boolean', default: false },
    /**
     * Seconds per turn when the targets take turns (0: one after the other). With turns, every
     * target of a round is up at once and the measured seconds alternate between them.
     */
    slice: { type: 'string', default: '0' },
    /** A second server checkout (e.g. a git worktree of the build before) measured as "base". */
    'compare-root': { type: 'string', default: '' },
    /** Settings of the "base" server over --server-env (A/B of a setting): KEY=VALUE, repeatable. */
    'compare-env': { type: 'string', multiple: true, default: [] },
    /** Extra server settings, for experiments: --server-env COMPACT_AFTER_UPDATES=100000 */
    'server-env': { type: 'string', multiple: true, default: [] },
    /** A checkout to run the server from (e.g. a git worktree of a fixed commit); default: this one. */
    'server-root': { type: 'string', default: '' },
    /** Where the server's DATA_DIR is made (a tmpfs such as /dev/shm takes the disk out). */
    'data-root': { type: 'string', default: os.tmpdir() },
    /**
     * Niceness of the targets (server, base, relay alike). They share the two cores with this
     * load generator, whose own waits for a core land in every latency it records; above 0
     * the load generator runs first and each target bears the wait for a core itself.
     */
    'target-nice': { type: 'string', default: '0' },
  },
});
const envOf = (option: 'server-env' | 'compare-env'): Record<string, string> =>
  Object.fromEntries(
    (args[option] ?? []).map((kv) => {
      const at = kv.indexOf('=');
      if (at <= 0) throw new Error(`--${option} expects KEY=VALUE, got ${kv}`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
const SERVER_ENV = envOf('server-env');
const COMPARE_ENV = envOf('compare-env');
const ROOMS = positiveInt(args.rooms, 'rooms');
const SECONDS = positiveInt(args.seconds, 'seconds');
const WARMUP = Number(args.warmup);
const FULL_ROOMS = Math.min(ROOMS, Number(args['full-rooms']));
/** What a round measures: a kind of target, under a label, from a checkout, with settings. */
interface TargetSpec {
  readonly label: string;
  readonly kind: Target;
  readonly root: string;
  readonly env: Record<string, string>;
}
const SERVER: TargetSpec = {
  label: 'server',
  kind: 'server',
  root: args['server-root'] || ROOT,
  env: SERVER_ENV,
};
const BASE: TargetSpec = {
  label: 'base',
  kind: 'server',
  root: args['compare-root'] || SERVER.root,
  env: { ...SERVER_ENV, ...COMPARE_ENV },
};
const RELAY: TargetSpec = { label: 'relay', kind: 'relay', root: ROOT, env: {} };
const TARGETS: TargetSpec[] = [
  ...(args.target === 'relay' ? [] : [SERVER]),
  ...(args['compare-root'] || Object.keys(COMPARE_ENV).length > 0 ? [BASE] : []),
  ...(args.target === 'both' || args.target === 'relay' ? [RELAY] : []),
];
const SLICE = Number(args.slice);
if (!(SLICE >= 0 && SLICE <= 60)) throw new Error('--slice must be between 0 and 60 seconds');
if (
  Number(args.rounds) > 10 ||
  SECONDS > 120 ||
  ROOMS > 1000 ||
  !(WARMUP >= 0 && WARMUP <= 30) ||
  !(FULL_ROOMS >= 0)
) {
  throw new Error('bounded runs only: --seconds <= 120, --rooms <= 1000, 0 <= --warmup <= 30');
}
const ROUNDS = positiveInt(args.rounds, 'rounds');
const TARGET_NICE = Number(args['target-nice']);
if (!(Number.isInteger(TARGET_NICE) && TARGET_NICE >= 0 && TARGET_NICE <= 19)) {
  throw new Error('--target-nice must be an integer from 0 to 19');
}
const TOTAL_MOVES = Math.round((WARMUP + SECONDS) * MOVES_PER_SECOND);
const TOTAL_CURSORS = Math.round((WARMUP + SECONDS) * CURSORS_PER_SECOND);
const MOVE_PERIOD = 1000 / MOVES_PER_SECOND;
const CURSOR_PERIOD = 1000 / CURSORS_PER_SECOND;

interface Result {
  /** The target's label: server, relay, or base (--compare-root / --compare-env). */
  target: string;
  round: number;
  rooms: number;
  fullRooms: number;
  seconds: number;
  movesSent: number;
  expectedObservations: number;
  lost: number;
  anomalies: number;
  closes: number;
  move: Percentiles;
  /** Moves observed in the rooms of real WebsocketProvider clients only. */
  fullRoomMove: Percentiles;
  cursor: Percentiles;
  cpuPercent: number;
  peakRssMb: number;
  hwmMb: number;
  loadgenCpuPercent: number;
  loadgenLagP99Ms: number;
  /** CPU used by everything else on the machine during the window (% of one core). */
  otherCpuPercent: number;
  /** Worst move latency (ms) per 250 ms of the measured window (0 in other targets' turns). */
  timeline: number[];
  tail: TailShape;
}

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
// Hard bound on the whole run, whatever happens.
const deadline = setTimeout(
  () => {
    console.error('bench: deadline passed, stopping');
    killAll();
    process.exit(3);
  },
  ROUNDS * TARGETS.length * (240 + WARMUP + SECONDS) * 1000,
);

function positiveInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function startTarget(spec: TargetSpec, port: number, dataDir: string): Promise<Child> {
  const profileDir = path.join(ROOT, 'bench/results/profiles');
  const prof = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (spec.kind === 'relay') {
    const child = new Child(
      ['--import', 'tsx', ...prof, path.join(ROOT, 'bench/relay-server.ts')],
      { PORT: String(port) },
      ROOT,
      TARGET_NICE,
    );
    children.add(child);
    await child.waitReady(() => tcpOpen(port));
    return child;
  }
  const child = new Child(
    ['--import', 'tsx', ...prof, path.join(spec.root, 'server/src/cli.ts'), 'serve'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
      ...spec.env,
    },
    ROOT,
    TARGET_NICE,
  );
  children.add(child);
  await child.waitReady(async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok);
  return child;
}

/** Waits (bounded) until the machine, with our idle clients and server, uses < 25% of a core. */
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

interface RoomRun {
  readonly times: RoomTimes;
  readonly mover: Mover;
  readonly cursor: CursorMover;
  readonly observers: MoveObserver[];
  readonly clients: BenchClient[];
}

function buildRoom(
  target: Target,
  port: number,
  plan: Plan,
  r: number,
  recorder: Recorder,
  base: number,
  lightFrames: { moves: Buffer[]; awareness: Buffer[][] },
): RoomRun {
  const { sessionId, scanId } = plan.rooms[r]!;
  const full = r < FULL_ROOMS;
  const times = new RoomTimes(TOTAL_MOVES, TOTAL_CURSORS, full);
  const observers: MoveObserver[] = [];
  const clients: Array<BenchClient & Mover & CursorMover> = [];
  for (const [i, member] of plan.members.entries()) {
    const url = `ws://127.0.0.1:${port}/yjs/${sessionId}/${scanId}?token=${member.token}&v=1`;
    const ctx: ClientContext = { target, url, room: times, recorder, base };
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
  return { times, mover: clients[MOVER]!, cursor: clients[CURSOR]!, observers, clients };
}

/**
 * Sends each room's moves `fromMove` up to `toMove` (and the cursor moves of the same seconds),
 * each at its time; rooms are spread evenly over each period. `onMeasureStart` runs once,
 * `measureAfterMs` into the drive (never when it is infinite).
 */
function drive(
  rooms: RoomRun[],
  span: { fromMove: number; toMove: number; fromCursor: number; toCursor: number },
  measureAfterMs: number,
  onMeasureStart: () => void,
  target: Child,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now() + 50;
    const phase = rooms.map((_, r) => (r / rooms.length) * MOVE_PERIOD);
    const cursorPhase = rooms.map((_, r) => ((r + 0.5) / rooms.length) * CURSOR_PERIOD);
    let measuring = false;
    const tick = () => {
      // A target that died mid-load would otherwise surface as a sampler's missing /proc file.
      if (target.exited) {
        reject(
          new Error(`the target exited during the load; its last output:\n${target.output.slice(-2000)}`),
        );
        return;
      }
      const now = performance.now();
      if (!measuring && now >= t0 + measureAfterMs) {
        measuring = true;
        try {
          onMeasureStart();
        } catch (error) {
          reject(error);
          return;
        }
      }
      let done = true;
      for (const [r, room] of rooms.entries()) {
        const times = room.times;
        while (
          times.movesSent < span.toMove &&
          t0 + phase[r]! + (times.movesSent - span.fromMove) * MOVE_PERIOD <= now
        ) {
          const seq = times.movesSent++;
          times.moveSent[seq] = performance.now();
          room.mover.sendMove(seq);
        }
        while (
          times.cursorsSent < span.toCursor &&
          t0 + cursorPhase[r]! + (times.cursorsSent - span.fromCursor) * CURSOR_PERIOD <= now
        ) {
          const move = times.cursorsSent++;
          times.cursorSent[move] = performance.now();
          room.cursor.sendCursor(move);
        }
        if (times.movesSent < span.toMove || times.cursorsSent < span.toCursor) done = false;
      }
      if (done) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
}

/** One target of a round, started and with every client connected, and what it measured so far. */
interface Prepared {
  readonly spec: TargetSpec;
  readonly round: number;
  readonly port: number;
  readonly child: Child;
  readonly dataDir: string;
  readonly closesBefore: number;
  readonly rooms: RoomRun[];
  readonly recorder: Recorder;
  readonly lag: ReturnType<typeof monitorEventLoopDelay>;
  /** Seconds of load driven so far (warm-up included). */
  drivenSeconds: number;
  measuredWall: number;
  measuredCpu: number;
  measuredLoadgenCpu: number;
  /** Whole-machine busy CPU over the measured time, in core-seconds. */
  measuredMachine: number;
  peakRss: number;
  histogramsBefore: Map<string, Buckets> | undefined;
}

async function prepare(
  spec: TargetSpec,
  round: number,
  planFor: (spec: TargetSpec, port: number) => Promise<Plan>,
): Promise<Prepared> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(args['data-root'] ?? os.tmpdir(), 'cxr-bench-'));
  const closesBefore = closes.length;
  const child = await startTarget(spec, port, dataDir).catch((error: unknown) => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const prepared: Prepared = {
    spec,
    round,
    port,
    child,
    dataDir,
    closesBefore,
    rooms: new Array(ROOMS),
    recorder: new Recorder(WARMUP * MOVES_PER_SECOND, WARMUP * CURSORS_PER_SECOND),
    lag: monitorEventLoopDelay({ resolution: 5 }),
    drivenSeconds: 0,
    measuredWall: 0,
    measuredCpu: 0,
    measuredLoadgenCpu: 0,
    measuredMachine: 0,
    peakRss: 0,
    histogramsBefore: undefined,
  };
  try {
    const plan = await planFor(spec, port);
    const base = Date.now();
    const mover = plan.members[MOVER]!;
    const lightFrames = {
      moves: encodeMoveFrames(LIGHT_IDS[MOVER]!, mover.id, TOTAL_MOVES, base),
      awareness: plan.members.map((m, i) =>
        encodeCursorFrames(LIGHT_IDS[i]!, presenceFor(m.id, i), i === CURSOR ? TOTAL_CURSORS : 0),
      ),
    };
    process.stdout.write(
      `[${spec.label} #${round}] connecting ${ROOMS * 6} clients (${FULL_ROOMS} full rooms)... `,
    );
    const connectStarted = performance.now();
    const connected = inBatches(ROOMS, 8, async (r) => {
      const room = buildRoom(spec.kind, port, plan, r, prepared.recorder, base, lightFrames);
      prepared.rooms[r] = room;
      await Promise.all(room.clients.map((c) => c.ready));
    });
    let connectTimer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      connectTimer = setTimeout(() => {
        const tail = child.output.slice(-2000);
        reject(
          new Error(`clients did not get ready in 60 s; closes: ${closes.slice(-5).join('; ')}\n${tail}`),
        );
      }, 60_000);
    });
    await Promise.race([connected, timedOut]).finally(() => clearTimeout(connectTimer));
    console.log(`${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);
    // Let the join-time awareness exchange settle.
    await new Promise((r) => setTimeout(r, 1500));
    return prepared;
  } catch (error) {
    await teardown(prepared);
    throw error;
  }
}

const missingMoves = (p: Prepared) =>
  p.rooms.reduce((n, room) => n + room.observers.reduce((m, o) => m + o.missing, 0), 0);

/**
 * Drives `seconds` more of the load at one target; the time past `warmupSeconds` into this
 * drive (all of it when 0, none when undefined) is measured. Then waits (bounded) until every
 * observer has seen every move, so the next drive, here or at another target, starts clean.
 */
async function driveFor(p: Prepared, seconds: number, warmupSeconds: number | undefined): Promise<void> {
  const span = {
    fromMove: Math.round(p.drivenSeconds * MOVES_PER_SECOND),
    toMove: Math.min(TOTAL_MOVES, Math.round((p.drivenSeconds + seconds) * MOVES_PER_SECOND)),
    fromCursor: Math.round(p.drivenSeconds * CURSORS_PER_SECOND),
    toCursor: Math.min(TOTAL_CURSORS, Math.round((p.drivenSeconds + seconds) * CURSORS_PER_SECOND)),
  };
  p.drivenSeconds += seconds;
  const sampler = new ProcSampler(p.child.pid);
  const machine = new MachineSampler();
  let measuring = false;
  let loadgenCpu = process.cpuUsage();
  let wall = performance.now();
  const measureAfterMs = warmupSeconds === undefined ? Number.POSITIVE_INFINITY : warmupSeconds * 1000;
  await drive(
    p.rooms,
    span,
    measureAfterMs,
    () => {
      if (p.spec.kind === 'server' && p.histogramsBefore === undefined)
        void scrapeHistograms(p.port, SERVER_HISTOGRAMS).then((h) => {
          p.histogramsBefore ??= h;
        });
      measuring = true;
      sampler.start();
      machine.restart();
      if (Number.isNaN(p.recorder.measureStart)) p.recorder.measureStart = performance.now();
      p.lag.enable();
      loadgenCpu = process.cpuUsage();
      wall = performance.now();
    },
    p.child,
  );
  if (measuring) {
    const usage = sampler.stop();
    const elapsed = (performance.now() - wall) / 1000;
    const cpu = process.cpuUsage(loadgenCpu);
    p.measuredWall += elapsed;
    p.measuredCpu += (usage.cpuPercent / 100) * elapsed;
    p.measuredLoadgenCpu += (cpu.user + cpu.system) / 1e6;
    p.measuredMachine += (machine.stop() / 100) * elapsed;
    p.peakRss = Math.max(p.peakRss, usage.peakRss);
    p.lag.disable();
  }
  // Drain: every observer should see every move (a backlogged server gets up to 30 s).
  const drainStarted = performance.now();
  while (missingMoves(p) > 0 && performance.now() - drainStarted < 30_000)
    await new Promise((r) => setTimeout(r, 20));
}

async function finish(p: Prepared): Promise<Result> {
  const hwm = memory(p.child.pid).hwm;
  if (p.histogramsBefore)
    console.log(
      `[${p.spec.label} #${p.round}] inside the server (bucket bounds): ${serverSide(p.histogramsBefore, await scrapeHistograms(p.port, SERVER_HISTOGRAMS))}`,
    );
  const movesSent = p.rooms.reduce((n, room) => n + room.times.movesSent, 0);
  const wall = Math.max(p.measuredWall, 1e-9);
  const move = percentiles(p.recorder.moveLatency);
  const result: Result = {
    target: p.spec.label,
    round: p.round,
    rooms: ROOMS,
    fullRooms: FULL_ROOMS,
    seconds: SECONDS,
    movesSent,
    expectedObservations: movesSent * 5,
    lost: missingMoves(p),
    anomalies: p.recorder.anomalies,
    closes: closes.length - p.closesBefore,
    move,
    fullRoomMove: percentiles(p.recorder.fullMoveLatency),
    cursor: percentiles(p.recorder.cursorLatency),
    cpuPercent: (100 * p.measuredCpu) / wall,
    peakRssMb: p.peakRss / 2 ** 20,
    hwmMb: hwm / 2 ** 20,
    loadgenCpuPercent: (100 * p.measuredLoadgenCpu) / wall,
    loadgenLagP99Ms: p.lag.percentile(99) / 1e6,
    otherCpuPercent: Math.max(0, (100 * (p.measuredMachine - p.measuredCpu - p.measuredLoadgenCpu)) / wall),
    timeline: Array.from(p.recorder.timeline, (v) => Math.round((v ?? 0) * 10) / 10),
    tail: tailShape(p.recorder.moveSentAt, p.recorder.moveLatency, move.p99, p.measuredWall),
  };
  console.log(
    `[${p.spec.label} #${p.round}] tail: ${(100 * result.tail.stallShare).toFixed(0)}% of the samples at or above p99 in stalls (${STALL_WINDOW_MS} ms of sends holding ${STALL_MIN_SAMPLES} or more of them); ${result.tail.episodesPerSecond.toFixed(1)} episodes a second of moves over ${EPISODE_LATE_MS} ms`,
  );
  if (result.closes > 0)
    console.log(
      `[${p.spec.label}] unexpected closes:\n  ${closes.slice(p.closesBefore, p.closesBefore + 10).join('\n  ')}`,
    );
  return result;
}

async function teardown(p: Prepared): Promise<void> {
  for (const room of p.rooms) for (const c of room?.clients ?? []) c.close();
  await new Promise((r) => setTimeout(r, 200));
  await p.child.stop();
  children.delete(p.child);
  const warnings = p.child.output.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
  if (warnings.length > 0)
    console.log(`[${p.spec.label}] ${warnings.length} warnings, first: ${warnings[0]?.slice(0, 300)}`);
  fs.rmSync(p.dataDir, { recursive: true, force: true });
}

/**
 * One round. Without --slice: each target in turn, started, loaded for the warm-up and the
 * measured seconds in one go, and stopped. With --slice S: every target is started and
 * connected first, each gets its warm-up, then the measured seconds go to the targets in
 * turns of S seconds (the first in each turn alternating), so that each target's figures
 * come from the same minutes of a machine whose speed drifts.
 */
async function runRound(
  round: number,
  planFor: (spec: TargetSpec, port: number) => Promise<Plan>,
): Promise<Result[]> {
  const results: Result[] = [];
  if (SLICE === 0) {
    for (const spec of TARGETS) {
      const p = await prepare(spec, round, planFor);
      try {
        await waitQuiet(Number(args['quiet-wait']));
        process.stdout.write(
          `[${spec.label} #${round}] load: ${WARMUP} s warm-up + ${SECONDS} s measured... `,
        );
        const started = performance.now();
        await driveFor(p, WARMUP + SECONDS, WARMUP);
        console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        results.push(await finish(p));
      } finally {
        await teardown(p);
      }
    }
    return results;
  }
  const prepared: Prepared[] = [];
  try {
    for (const spec of TARGETS) prepared.push(await prepare(spec, round, planFor));
    await waitQuiet(Number(args['quiet-wait']));
    const turns = Math.ceil(SECONDS / SLICE);
    process.stdout.write(
      `[round ${round}] load: ${WARMUP} s warm-up each, then ${turns} turns of ${SLICE} s on ${TARGETS.map((t) => t.label).join(' / ')}... `,
    );
    const started = performance.now();
    for (const p of prepared) if (WARMUP > 0) await driveFor(p, WARMUP, undefined);
    for (let turn = 0; turn < turns; turn++) {
      const seconds = Math.min(SLICE, SECONDS - turn * SLICE);
      const order = turn % 2 === 0 ? prepared : [...prepared].reverse();
      for (const p of order) await driveFor(p, seconds, 0);
    }
    console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const p of prepared) results.push(await finish(p));
    return results;
  } finally {
    for (const p of prepared) await teardown(p);
  }
}

/** A histogram's cumulative bucket counts from Prometheus text: [upper bound, count]. */
type Buckets = Array<readonly [number, number]>;

async function scrapeHistograms(port: number, names: readonly string[]): Promise<Map<string, Buckets>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, Buckets>();
  for (const name of names) {
    const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm');
    out.set(
      name,
      [...text.matchAll(pattern)].map(
        (m) => [m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])] as const,
      ),
    );
  }
  return out;
}

const SERVER_HISTOGRAMS = ['cxr_broadcast_latency_seconds', 'cxr_persist_duration_seconds'] as const;

/**
 * The server's own view of the measured seconds (the difference of two /metrics scrapes): how
 * long a move spent inside it, arriving to broadcast, and how long storing a batch took.
 */
function serverSide(before: Map<string, Buckets>, after: Map<string, Buckets>): string {
  const quantile = (name: string, q: number) => {
    const a = after.get(name) ?? [];
    const b = before.get(name) ?? [];
    const diff = a.map(([le, count], i) => [le, count - (b[i]?.[1] ?? 0)] as const);
    const total = diff.at(-1)?.[1] ?? 0;
    const bound = diff.find(([, count]) => count >= q * total)?.[0];
    if (bound === undefined || total === 0) return '-';
    return bound === Number.POSITIVE_INFINITY ? 'inf' : `<= ${Number((bound * 1000).toPrecision(3))} ms`;
  };
  const [broadcast, persist] = SERVER_HISTOGRAMS;
  return [
    `arrival to broadcast p50 ${quantile(broadcast, 0.5)}, p99 ${quantile(broadcast, 0.99)}`,
    `storing a batch p50 ${quantile(persist, 0.5)}, p99 ${quantile(persist, 0.99)}`,
  ].join('; ');
}

function table(results: Result[]): string {
  const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const header = [
    'target',
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
    'CPU %',
    'peak RSS MB',
    'loadgen CPU %',
    'other CPU %',
  ];
  const rows = results.map((r) => [
    r.target,
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
    f(r.cpuPercent, 0),
    f(r.hwmMb, 0),
    f(r.loadgenCpuPercent, 0),
    f(r.otherCpuPercent, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const runId = Math.random().toString(36).slice(2, 8);
  let plan: Plan | undefined;
  const results: Result[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    results.push(
      ...(await runRound(round, async (spec, port) => {
        // Each server is a fresh database: it gets its own panel and rooms.
        if (spec.kind === 'server') {
          plan = await setUpServer(`http://127.0.0.1:${port}`, ROOMS, runId);
          return plan;
        }
        // The relay checks nothing: reuse the server's paths, or make some up.
        plan ??= {
          members: [0, 1, 2, 3, 4, 5].map((i) => ({ id: `relay-user-${i}`, token: 'none' })),
          rooms: Array.from({ length: ROOMS }, (_, r) => ({
            sessionId: `relay-${runId}`,
            scanId: `scan-${r}`,
          })),
        };
        return plan;
      })),
    );
  }
  console.log(
    `\n${ROOMS} rooms x 6 clients (${FULL_ROOMS} rooms with WebsocketProvider clients), ` +
      `${MOVES_PER_SECOND} moves/s + ${CURSORS_PER_SECOND} cursor moves/s per room, ` +
      `${SECONDS} s measured after ${WARMUP} s warm-up; ${os.cpus().length} cores\n`,
  );
  console.log(table(results));
  const goal = ROOMS >= 200 ? 2 : 1.5;
  const ratio = (a: string, b: string, what: string) => {
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const x = results.find((r) => r.target === a && r.round === round);
      const y = results.find((r) => r.target === b && r.round === round);
      if (!x || !y) continue;
      ratios.push(x.move.p99 / y.move.p99);
      console.log(
        `round ${round}: ${a}/${b} p99 = ${ratios.at(-1)!.toFixed(2)}x ${what}; ` +
          `lost moves: ${a} ${x.lost}, ${b} ${y.lost}`,
      );
    }
    // The ratio of each round (both measured over the same minutes), not the ratio of the
    // median p99s: those may come from rounds on a differently loaded machine.
    if (ratios.length > 1) {
      const sorted = [...ratios].sort((p, q) => p - q);
      const mid = sorted.length / 2;
      const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      console.log(
        `median of the ${ratios.length} rounds' ratios: ${a}/${b} p99 = ${median.toFixed(2)}x ${what}`,
      );
    }
  };
  ratio('server', 'relay', `(target <= ${goal}x)`);
  ratio('server', 'base', '(against --compare-root / --compare-env)');
  // The load generator is one process: once it needs most of a core, moves wait in it and the
  // latencies measure it, not the target (at 200 rooms it took 96% of a core on a slow day, and
  // the relay's p99 rose to 370-550 ms). Such a round's ratio says nothing.
  const saturated = results.filter((r) => r.loadgenCpuPercent >= LOADGEN_SATURATED_PERCENT);
  if (saturated.length > 0)
    console.log(
      `\nWARNING: the load generator used >= ${LOADGEN_SATURATED_PERCENT}% of a core in ` +
        `${saturated.map((r) => `${r.target} #${r.round}`).join(', ')}: those latencies are the ` +
        `load generator's; their ratios are not a measurement of the target`,
    );
  const anomalies = results.reduce((n, r) => n + r.anomalies + r.closes, 0);
  if (anomalies > 0) console.log(`\nWARNING: ${anomalies} anomalies (duplicates, unknown moves or closes)`);
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(
    outDir,
    `collab-load-${ROOMS}r-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  fs.writeFileSync(file, JSON.stringify({ args, cores: os.cpus().length, results }, null, 2));
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
