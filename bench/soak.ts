/**
 * Soak: R rooms x 6 clients for D minutes with the collab-load traffic (one client drags a box
 * at 30 moves/s, one moves its cursor at 15/s, four watch; the first --full-rooms rooms use real
 * WebsocketProvider clients, the rest light replay clients). Samples the server's RSS every
 * 10 s and reports the peak RSS drift (peak of the last window vs peak of the first window after
 * the warm-up; target < 10%) and lost moves (target 0).
 *
 *   npx tsx bench/soak.ts [--rooms 200] [--minutes 30] [--full-rooms 3] [--data-root /dev/shm]
 *
 * 127.0.0.1 only; bounded; stops by itself; the temp DATA_DIR is removed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchClient,
  type ClientContext,
  type CursorMover,
  FullClient,
  LightClient,
  type Mover,
  closes,
} from './load/clients.js';
import { freePort, memory } from './load/proc.js';
import { MoveObserver, Recorder, RoomTimes } from './load/recorder.js';
import { type Plan, inBatches, setUpServer } from './load/setup.js';
import { ROOT, children, guard, sleep, startServer } from './load/server.js';
import { encodeCursorFrames, encodeMoveFrames, presenceFor } from './load/wire.js';

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '30' },
    'full-rooms': { type: 'string', default: '3' },
    /** Where the server's DATA_DIR is made (a tmpfs such as /dev/shm takes the disk out). */
    'data-root': { type: 'string', default: os.tmpdir() },
  },
});
const ROOMS = Number(args.rooms);
const MINUTES = Number(args.minutes);
const FULL_ROOMS = Math.min(ROOMS, Number(args['full-rooms']));
if (!(ROOMS >= 1 && ROOMS <= 1000) || !(MINUTES > 0 && MINUTES <= 240) || !(FULL_ROOMS >= 0)) {
  throw new Error('bounded runs only: --rooms <= 1000, --minutes <= 240');
}
const MOVES_PER_SECOND = 30;
const CURSORS_PER_SECOND = 15;
const SECONDS = MINUTES * 60;
const TOTAL_MOVES = SECONDS * MOVES_PER_SECOND;
const TOTAL_CURSORS = SECONDS * CURSORS_PER_SECOND;
const MOVER = 1;
const CURSOR = 2;
const LIGHT_IDS = [0, 1, 2, 3, 4, 5].map((i) => 0x3e800000 + i);
/** Warm-up (not compared), then the first and last windows whose RSS peaks are compared. */
const WARMUP_S = Math.min(120, SECONDS / 6);
const WINDOW_S = Math.min(300, (SECONDS - WARMUP_S) / 3);
const SAMPLE_MS = 10_000;

interface RoomRun {
  readonly times: RoomTimes;
  readonly mover: Mover;
  readonly cursor: CursorMover;
  readonly observers: MoveObserver[];
  readonly clients: BenchClient[];
}

function buildRoom(
  port: number,
  plan: Plan,
  r: number,
  recorder: Recorder,
  base: number,
  light: { moves: Buffer[]; awareness: Buffer[][] },
): RoomRun {
  const { sessionId, scanId } = plan.rooms[r]!;
  const full = r < FULL_ROOMS;
  const times = new RoomTimes(TOTAL_MOVES, TOTAL_CURSORS, full);
  const observers: MoveObserver[] = [];
  const clients: Array<BenchClient & Mover & CursorMover> = [];
  for (const [i, member] of plan.members.entries()) {
    const url = `ws://127.0.0.1:${port}/yjs/${sessionId}/${scanId}?token=${member.token}&v=1`;
    const ctx: ClientContext = { target: 'server', url, room: times, recorder, base };
    const observer = i === MOVER ? undefined : new MoveObserver(times, recorder);
    if (observer) observers.push(observer);
    if (full) {
      const cursorId = () => (clients[CURSOR] as FullClient).clientId;
      clients.push(
        new FullClient(
          ctx,
          `${sessionId}/${scanId}`,
          member.token,
          presenceFor(member.id, i),
          member.id,
          observer,
          cursorId,
        ),
      );
    } else {
      const moves = i === MOVER ? light.moves : undefined;
      clients.push(
        new LightClient(ctx, LIGHT_IDS[i]!, light.awareness[i]!, moves, observer, LIGHT_IDS[CURSOR]!),
      );
    }
  }
  return { times, mover: clients[MOVER]!, cursor: clients[CURSOR]!, observers, clients };
}

/** collab-load's driver: every move and cursor move at its time, rooms spread over each period. */
function drive(rooms: RoomRun[]): Promise<void> {
  const movePeriod = 1000 / MOVES_PER_SECOND;
  const cursorPeriod = 1000 / CURSORS_PER_SECOND;
  return new Promise((resolve) => {
    const t0 = performance.now() + 50;
    const tick = () => {
      const now = performance.now();
      let done = true;
      for (const [r, room] of rooms.entries()) {
        const t = room.times;
        const phase = (r / rooms.length) * movePeriod;
        while (t.movesSent < TOTAL_MOVES && t0 + phase + t.movesSent * movePeriod <= now) {
          const seq = t.movesSent++;
          t.moveSent[seq] = performance.now();
          room.mover.sendMove(seq);
        }
        const cphase = ((r + 0.5) / rooms.length) * cursorPeriod;
        while (t.cursorsSent < TOTAL_CURSORS && t0 + cphase + t.cursorsSent * cursorPeriod <= now) {
          const move = t.cursorsSent++;
          t.cursorSent[move] = performance.now();
          room.cursor.sendCursor(move);
        }
        if (t.movesSent < TOTAL_MOVES || t.cursorsSent < TOTAL_CURSORS) done = false;
      }
      if (done) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
}

async function main(): Promise<void> {
  process.setMaxListeners(0);
  const dataDir = fs.mkdtempSync(path.join(args['data-root'] ?? os.tmpdir(), 'cxr-soak-'));
  guard((SECONDS + 300) * 1000, () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const server = await startServer(port, dataDir);
  try {
    const plan = await setUpServer(`http://127.0.0.1:${port}`, ROOMS, Math.random().toString(36).slice(2, 8));
    const base = Date.now();
    const light = {
      moves: encodeMoveFrames(LIGHT_IDS[MOVER]!, plan.members[MOVER]!.id, TOTAL_MOVES, base),
      awareness: plan.members.map((m, i) =>
        encodeCursorFrames(LIGHT_IDS[i]!, presenceFor(m.id, i), i === CURSOR ? TOTAL_CURSORS : 0),
      ),
    };
    // Latencies are not kept (millions of them): every move counts as warm-up for the recorder.
    const recorder = new Recorder(TOTAL_MOVES, TOTAL_CURSORS);
    const rooms: RoomRun[] = new Array(ROOMS);
    await inBatches(ROOMS, 8, async (r) => {
      rooms[r] = buildRoom(port, plan, r, recorder, base, light);
      await Promise.race([
        Promise.all(rooms[r].clients.map((c) => c.ready)),
        sleep(60_000).then(() => Promise.reject(new Error(`room ${r} did not get ready`))),
      ]);
    });
    await sleep(1500);
    console.log(
      `soak: ${ROOMS} rooms x 6 clients (${FULL_ROOMS} full rooms) for ${MINUTES} min; ` +
        `warm-up ${WARMUP_S.toFixed(0)} s, compared windows ${WINDOW_S.toFixed(0)} s`,
    );
    const samples: Array<{ t: number; rss: number }> = [];
    const start = performance.now();
    const sample = () => {
      const t = (performance.now() - start) / 1000;
      const rss = memory(server.pid).rss;
      samples.push({ t, rss });
      const observed = rooms.reduce((n, room) => n + room.observers.reduce((m, o) => m + o.seenCount, 0), 0);
      console.log(
        `  t=${t.toFixed(0).padStart(5)} s  RSS ${(rss / 2 ** 20).toFixed(0)} MB  observations ${observed}  closes ${closes.length}`,
      );
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    await drive(rooms);
    clearInterval(sampler);
    sample();

    const drainStarted = performance.now();
    const missing = () => rooms.reduce((n, room) => n + room.observers.reduce((m, o) => m + o.missing, 0), 0);
    while (missing() > 0 && performance.now() - drainStarted < 30_000) await sleep(50);
    const lost = missing();
    const movesSent = rooms.reduce((n, room) => n + room.times.movesSent, 0);
    for (const room of rooms) for (const c of room.clients) c.close();

    const peak = (from: number, to: number) =>
      Math.max(0, ...samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss));
    const first = peak(WARMUP_S, WARMUP_S + WINDOW_S);
    const last = peak(SECONDS - WINDOW_S, SECONDS + 1);
    const drift = ((last - first) / first) * 100;
    const hwm = memory(server.pid).hwm;
    console.log(
      `\n${ROOMS} rooms x 6 clients, ${MINUTES} min: ${movesSent} moves sent, ${movesSent * 5} expected observations, ` +
        `lost ${lost} (target 0); unexpected closes ${closes.length}; anomalies ${recorder.anomalies}`,
    );
    console.log(
      `peak RSS first window ${(first / 2 ** 20).toFixed(0)} MB, last window ${(last / 2 ** 20).toFixed(0)} MB: ` +
        `drift ${drift.toFixed(1)}% (target < 10%); VmHWM ${(hwm / 2 ** 20).toFixed(0)} MB`,
    );
    const outDir = path.join(ROOT, 'bench/results');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(
      outDir,
      `soak-${ROOMS}r-${MINUTES}m-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
    fs.writeFileSync(file, JSON.stringify({ args, movesSent, lost, drift, first, last, samples }, null, 1));
    console.log(`results: ${path.relative(ROOT, file)}`);
    process.exitCode = lost === 0 && drift < 10 && closes.length === 0 ? 0 : 1;
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
