/**
 * Capture cost benchmark (issue 23): server CPU with reading-analytics capture on vs off, on top
 * of a live session's load, in the same run. One server (SQLite), R rooms (sessions, one scan
 * each) x 6 members (moderator + 5 readers), every member with a real socket.io live-panel
 * connection.
 *
 * --baseline session (default): every member also has a real y-websocket client
 * (WebsocketProvider, bench/load/clients.ts's FullClient) on the room's scan document, and every
 * reader drags a box of their own, one move every 1-2 s (uniformly random around --move-ms), as
 * readers do while they draw and adjust. The socket.io connection does what the client does on
 * opening a scan (`presence:scan`, `vote:list`) and then stays open.
 * --baseline panel: the first version of this bench, socket.io only: no scan documents, and
 * every client sends `presence:scan` and `vote:list` every 2 s instead.
 *
 * In the "capture on" phase every reader also sends its `analytics:capture` batch every
 * ANALYTICS_SEND_INTERVAL_MS (active time, tool counts, and one finding view per box move since
 * its previous batch, as the client records them); "off": no batch. Phases alternate (off/on,
 * then on/off, ...) for --rounds rounds; reports the server's CPU (% of one core) of each, the
 * ratio on/off (goal <= 1.03) and the extra server CPU per batch.
 *
 *   npx tsx bench/analytics-capture-load.ts [--rooms 50] [--seconds 15] [--rounds 2]
 *                                           [--baseline session|panel] [--move-ms 1500]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Socket, io } from 'socket.io-client';
import { ANALYTICS_CAPTURE_EVENT, ANALYTICS_SEND_INTERVAL_MS, PROTOCOL_VERSION } from '@cxr/shared';
import { type ClientContext, FullClient, closes } from './load/clients.js';
import { MachineSampler, ProcSampler, freePort } from './load/proc.js';
import { Recorder, RoomTimes } from './load/recorder.js';
import { guard, sleep, startServer } from './load/server.js';
import { inBatches, setUpServer } from './load/setup.js';
import { presenceFor } from './load/wire.js';

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    baseline: { type: 'string', default: 'session' },
    /** Mean time between two moves of one reader's box (each interval: 2/3 to 4/3 of it). */
    'move-ms': { type: 'string', default: '1500' },
  },
});
const ROOMS = Number(args.rooms);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const BASELINE = args.baseline;
const MOVE_MS = Number(args['move-ms']);
if (BASELINE !== 'session' && BASELINE !== 'panel') throw new Error('--baseline must be session or panel');
if (!(ROOMS >= 1 && ROOMS <= 200 && SECONDS >= 1 && SECONDS <= 120 && ROUNDS >= 1 && ROUNDS <= 10)) {
  throw new Error('bounded runs only: --rooms 1..200, --seconds 1..120, --rounds 1..10');
}
if (!(MOVE_MS >= 100)) throw new Error('--move-ms must be at least 100');
/** The panel baseline's per-client traffic period. */
const PANEL_TRAFFIC_MS = 2000;
const WARMUP_MS = 5000;
const SETTLE_MS = 1000;

// Every WebsocketProvider adds a process 'exit' listener.
process.setMaxListeners(0);
// Kills the server whatever happens; the whole run is bounded (connecting 300 providers included).
guard((120 + ROUNDS * 2 * (SECONDS + SETTLE_MS / 1000) + WARMUP_MS / 1000) * 1000);

/** One panel member of one room: their live-panel socket and, with the session baseline, their scan document. */
interface Client {
  readonly socket: Socket;
  readonly scanId: string;
  readonly reader: boolean;
  /** The box this member drags (readers only). */
  readonly findingId: string;
  readonly doc: FullClient | undefined;
  /** Box moves since this reader's last batch (each becomes one finding view in it). */
  movesSinceBatch: number;
  /** Batches sent so far (the first one carries `openedAt` and says "created"). */
  batches: number;
}

/** Counts of one phase, from its measured window only. */
interface Counts {
  batchesSent: number;
  batchesAcked: number;
  refused: number;
  moves: number;
}

const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-capture-bench-'));
const server = await startServer(port, dataDir);
const base = `http://127.0.0.1:${port}`;
const clients: Client[] = [];
const timers: NodeJS.Timeout[] = [];
/** setTimeout, then setInterval, both remembered so the run can stop them. */
const every = (firstMs: number, periodMs: number, fn: () => void) => {
  timers.push(setTimeout(() => timers.push(setInterval(fn, periodMs)), firstMs));
};
try {
  const plan = await setUpServer(base, ROOMS, Date.now().toString(36));
  process.stdout.write(
    `connecting ${ROOMS * 6} socket.io clients${BASELINE === 'session' ? ` and ${ROOMS * 6} y-websocket clients` : ''}... `,
  );
  const connectStarted = performance.now();
  const moveBase = Date.now();
  // FullClient wants a latency recorder; this bench measures CPU only, so one unused pair serves all.
  const recorder = new Recorder(0, 0);
  const times = new RoomTimes(0, 0, true);
  await inBatches(plan.rooms.length * 6, 12, async (i) => {
    const room = plan.rooms[Math.floor(i / 6)]!;
    const m = i % 6;
    const member = plan.members[m]!;
    const socket = io(base, {
      auth: { token: member.token, v: PROTOCOL_VERSION, sessionId: room.sessionId },
      transports: ['websocket'],
      forceNew: true,
    });
    const findingId = `bench-box-${m}`;
    let doc: FullClient | undefined;
    if (BASELINE === 'session') {
      const ctx: ClientContext = {
        target: 'server',
        url: `ws://127.0.0.1:${port}/yjs/${room.sessionId}/${room.scanId}`,
        room: times,
        recorder,
        base: moveBase,
      };
      doc = new FullClient(
        ctx,
        `${room.sessionId}/${room.scanId}`,
        member.token,
        presenceFor(member.id, m),
        member.id,
        undefined,
        () => 0,
        findingId,
      );
    }
    clients.push({
      socket,
      scanId: room.scanId,
      reader: m !== 0,
      findingId,
      doc,
      movesSinceBatch: 0,
      batches: 0,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    if (doc) {
      await doc.ready;
      // What the client sends on opening a scan: where this member is, and the scan's votes.
      for (const event of ['presence:scan', 'vote:list'])
        await new Promise((r) => socket.emit(event, { scanId: room.scanId }, r));
    }
  });
  console.log(`${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);

  let capture = false;
  let measuring = false;
  let counts: Counts = { batchesSent: 0, batchesAcked: 0, refused: 0, moves: 0 };
  const readers = clients.filter((c) => c.reader);
  if (BASELINE === 'panel') {
    for (const c of clients) {
      // Spread the clients over the interval so the load is even, not a thundering herd.
      every(Math.random() * PANEL_TRAFFIC_MS, PANEL_TRAFFIC_MS, () => {
        c.socket.emit('presence:scan', { scanId: c.scanId }, () => {});
        c.socket.emit('vote:list', { scanId: c.scanId }, () => {});
      });
    }
  } else {
    for (const c of readers) {
      // Each reader drags their own box on their own clock, one move every 2/3 to 4/3 of MOVE_MS.
      let seq = 0;
      const next = () => {
        const timer = setTimeout(
          () => {
            c.doc!.sendMove(seq++);
            c.movesSinceBatch++;
            if (measuring) counts.moves++;
            next();
          },
          MOVE_MS * (2 / 3 + (2 / 3) * Math.random()),
        );
        timers.push(timer);
      };
      next();
    }
  }
  for (const c of readers) {
    every(Math.random() * ANALYTICS_SEND_INTERVAL_MS, ANALYTICS_SEND_INTERVAL_MS, () => {
      if (!capture) {
        // A client with capture always on would have sent these moves' views already.
        c.movesSinceBatch = 0;
        return;
      }
      const now = Date.now();
      const first = c.batches === 0;
      c.batches++;
      // One finding view per box move since the last batch, as the client records each change
      // (the panel baseline has no moves: two views, as the first version of this bench sent).
      const views = BASELINE === 'session' ? Math.min(64, c.movesSinceBatch) : 2;
      c.movesSinceBatch = 0;
      const counted = measuring ? counts : undefined;
      if (counted) counted.batchesSent++;
      c.socket.emit(
        ANALYTICS_CAPTURE_EVENT,
        {
          batchId: `bench-${c.socket.id}-${c.batches}`,
          sentAt: now,
          scans: [
            {
              scanId: c.scanId,
              activeMs: 4200,
              ...(first ? { openedAt: now - ANALYTICS_SEND_INTERVAL_MS } : {}),
              tools: { draw: 1, wl: 3, pan: 1 },
              findingViews: Array.from({ length: views }, (_, k) => ({
                findingId: BASELINE === 'session' ? c.findingId : `f-${k}`,
                action: first && k === 0 ? 'created' : 'changed',
                at: now - 1000,
                view: {
                  windowCenter: 2000 + c.batches,
                  windowWidth: 4000,
                  preset: 'manual',
                  zoom: 1.2,
                  invert: false,
                },
              })),
            },
          ],
        },
        (ack: { ok: boolean }) => {
          if (!counted) return;
          counted.batchesAcked++;
          if (!ack.ok) counted.refused++;
        },
      );
    });
  }
  await sleep(WARMUP_MS);

  interface PhaseResult extends Counts {
    readonly on: boolean;
    readonly round: number;
    readonly serverCpu: number;
    /** Server CPU seconds over the window. */
    readonly serverCpuSeconds: number;
    readonly loadgenCpu: number;
    readonly otherCpu: number;
    readonly wallSeconds: number;
  }
  const phase = async (on: boolean, round: number): Promise<PhaseResult> => {
    capture = on;
    // Batches and writes of the phase before finish (the server coalesces writes over 50 ms).
    await sleep(SETTLE_MS);
    counts = { batchesSent: 0, batchesAcked: 0, refused: 0, moves: 0 };
    const sampler = new ProcSampler(server.pid);
    const machine = new MachineSampler();
    const loadgen0 = process.cpuUsage();
    sampler.start();
    measuring = true;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    measuring = false;
    const wallSeconds = (performance.now() - t0) / 1000;
    const serverCpu = sampler.stop().cpuPercent;
    const machineCpu = machine.stop();
    const lg = process.cpuUsage(loadgen0);
    const loadgenCpu = ((lg.user + lg.system) / 1e6 / wallSeconds) * 100;
    // Acks of batches sent at the window's end may still be on their way: they count for it.
    const measured = counts;
    await sleep(300);
    return {
      ...measured,
      on,
      round,
      serverCpu,
      serverCpuSeconds: (serverCpu / 100) * wallSeconds,
      loadgenCpu,
      otherCpu: Math.max(0, machineCpu - serverCpu - loadgenCpu),
      wallSeconds,
    };
  };
  const results: PhaseResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Off first in odd rounds, on first in even ones, so a drifting machine weighs on both alike.
    const order = round % 2 === 1 ? [false, true] : [true, false];
    for (const on of order) {
      const r = await phase(on, round);
      results.push(r);
      console.log(
        `round ${round} capture ${on ? 'on ' : 'off'}: server CPU ${r.serverCpu.toFixed(1)}% of one core; ` +
          `${r.moves} box moves, ${r.batchesSent} batches sent (${r.batchesAcked} acked, ${r.refused} refused); ` +
          `load generator ${r.loadgenCpu.toFixed(0)}%, rest of the machine ${r.otherCpu.toFixed(0)}%`,
      );
    }
  }
  for (const t of timers) clearTimeout(t);

  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const of = (on: boolean) => results.filter((r) => r.on === on);
  const offCpu = of(false).map((r) => r.serverCpu);
  const onCpu = of(true).map((r) => r.serverCpu);
  const batches = mean(of(true).map((r) => r.batchesSent));
  const extraMsPerBatch = (((mean(onCpu) - mean(offCpu)) / 100) * SECONDS * 1000) / Math.max(1, batches);
  console.log(
    `\n${ROOMS} rooms x 6 members, ${ROUNDS} rounds x ${SECONDS} s per phase; baseline: ` +
      (BASELINE === 'session'
        ? `a real socket.io and y-websocket client per member, each reader dragging their own box every ${((MOVE_MS * 2) / 3 / 1000).toFixed(1)}-${((MOVE_MS * 4) / 3 / 1000).toFixed(1)} s`
        : `socket.io only, presence:scan + vote:list every ${PANEL_TRAFFIC_MS / 1000} s per client`) +
      `; capture: every reader's batch every ${ANALYTICS_SEND_INTERVAL_MS / 1000} s`,
  );
  console.log(
    `server CPU, capture off: ${offCpu.map((v) => v.toFixed(1)).join(', ')} -> mean ${mean(offCpu).toFixed(1)} % of one core`,
  );
  console.log(
    `server CPU, capture on:  ${onCpu.map((v) => v.toFixed(1)).join(', ')} -> mean ${mean(onCpu).toFixed(1)} % of one core`,
  );
  const perRound = Array.from({ length: ROUNDS }, (_, k) => {
    const off = results.find((r) => r.round === k + 1 && !r.on)!;
    const on = results.find((r) => r.round === k + 1 && r.on)!;
    return (on.serverCpu / off.serverCpu).toFixed(3);
  });
  const refused = results.reduce((n, r) => n + r.refused, 0);
  const acked = results.reduce((n, r) => n + r.batchesAcked, 0);
  console.log(
    `ratio on/off: ${(mean(onCpu) / mean(offCpu)).toFixed(3)} (per round: ${perRound.join(', ')}; goal <= 1.03); ` +
      `${(extraMsPerBatch).toFixed(2)} ms of server CPU per batch (${batches.toFixed(0)} batches per on phase); ` +
      `batches acked ${acked}, refused ${refused}`,
  );
  if (BASELINE === 'session') {
    // Proof that the edits were real and accepted: each moderator's document holds every reader's box.
    const moderators = clients.filter((c) => !c.reader);
    const seen = moderators.reduce((n, c) => n + (c.doc?.doc.getMap('findings').size ?? 0), 0);
    console.log(`boxes in the moderators' documents: ${seen}/${moderators.length * 5}`);
  }
  if (closes.length > 0)
    console.log(`WARNING: ${closes.length} unexpected y-websocket closes, first: ${closes[0]}`);
  const warnings = server.output.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
  if (warnings.length > 0)
    console.log(`server: ${warnings.length} warnings, first: ${warnings[0]?.slice(0, 300)}`);
} finally {
  for (const t of timers) clearTimeout(t);
  for (const c of clients) {
    c.doc?.close();
    c.socket.close();
  }
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
