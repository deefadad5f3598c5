/**
 * Crash consistency under load: K cycles of start the server on one fixed DATA_DIR, drag boxes
 * in a few rooms with real WebsocketProvider clients while others watch, `kill -9` the server
 * at a random moment, restart it, and check with a fresh client per room that every move an
 * observer saw (acknowledged by another client, so stored: the server stores before it
 * broadcasts) is in the restored document: the last seen `updatedAt` of the box, or a later one.
 *
 *   npx tsx bench/kill9.ts [--cycles 20] [--rooms 4] [--observers 2] [--min-ms 500] [--max-ms 4000]
 *
 * Clients are closed before each restart, so nothing a client still holds can refill the
 * server. 127.0.0.1 only; bounded; the temp DATA_DIR is removed at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Child } from './load/proc.js';
import { FullClient } from './load/clients.js';
import { freePort } from './load/proc.js';
import { Recorder, RoomTimes } from './load/recorder.js';
import { type Member, type Plan, login, setUpServer } from './load/setup.js';
import { children, guard, sleep, startServer } from './load/server.js';
import { FINDING_ID, presenceFor } from './load/wire.js';

const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20' },
    rooms: { type: 'string', default: '4' },
    observers: { type: 'string', default: '2' },
    'min-ms': { type: 'string', default: '500' },
    'max-ms': { type: 'string', default: '4000' },
    'moves-per-second': { type: 'string', default: '30' },
    seed: { type: 'string', default: '' },
  },
});
const CYCLES = Number(args.cycles);
const ROOMS = Number(args.rooms);
const OBSERVERS = Number(args.observers);
const MIN_MS = Number(args['min-ms']);
const MAX_MS = Number(args['max-ms']);
const RATE = Number(args['moves-per-second']);
if (
  !(CYCLES >= 1 && CYCLES <= 200) ||
  !(ROOMS >= 1 && ROOMS <= 50) ||
  !(OBSERVERS >= 1 && OBSERVERS <= 4) ||
  !(MIN_MS >= 0 && MAX_MS >= MIN_MS && MAX_MS <= 60_000) ||
  !(RATE > 0 && RATE <= 100)
) {
  throw new Error('bounded runs only: --cycles <= 200, --rooms <= 50, --observers 1..4, --max-ms <= 60000');
}
const MOVER = 1;

/** Per room: the highest `updatedAt` of the box that any observer saw (0: none yet). */
const lastSeen: number[] = new Array(ROOMS).fill(0);
let seenMoves = 0;
let sentMoves = 0;
let checked = 0;
const missing: string[] = [];

function client(port: number, plan: Plan, members: Member[], r: number, i: number, base: number): FullClient {
  const { sessionId, scanId } = plan.rooms[r]!;
  const m = members[i]!;
  const url = `ws://127.0.0.1:${port}/yjs/${sessionId}/${scanId}?token=${m.token}&v=1`;
  return new FullClient(
    // Closes after the kill are expected: this bench does not count them.
    {
      target: 'server',
      url,
      room: new RoomTimes(1, 0, true),
      recorder: new Recorder(0, 0),
      base,
      onClose: () => true,
    },
    `${sessionId}/${scanId}`,
    m.token,
    presenceFor(m.id, i),
    m.id,
    undefined,
    () => 0,
  );
}

async function ready(clients: FullClient[], ms: number): Promise<boolean> {
  return Promise.race([
    Promise.all(clients.map((c) => c.ready)).then(() => true),
    sleep(ms).then(() => false),
  ]);
}

/** A fresh client per room reads the restored box; it must be the last seen move or a later one. */
async function checkRestored(port: number, plan: Plan, members: Member[], cycle: number): Promise<void> {
  for (let r = 0; r < ROOMS; r++) {
    const fresh = client(port, plan, members, r, 5, 0);
    try {
      if (!(await ready([fresh], 15_000))) {
        missing.push(`cycle ${cycle} room ${r}: fresh client did not sync`);
        continue;
      }
      const box = fresh.doc.getMap('findings').get(FINDING_ID) as { updatedAt?: number } | undefined;
      const restored = box?.updatedAt ?? 0;
      checked++;
      if (restored < lastSeen[r]!) {
        missing.push(
          `cycle ${cycle} room ${r}: seen updatedAt ${lastSeen[r]}, restored ${restored || 'nothing'} ` +
            `(${restored ? lastSeen[r]! - restored : '-'} ms of moves lost)`,
        );
      }
    } finally {
      fresh.close();
    }
  }
}

async function loadAndKill(
  server: Child,
  port: number,
  plan: Plan,
  members: Member[],
  cycle: number,
): Promise<{ runMs: number; sent: number; seen: number }> {
  // A base per cycle so that `updatedAt` keeps growing across cycles (seq = updatedAt - base).
  const base = Date.now() * 10;
  const rooms = Array.from({ length: ROOMS }, (_, r) => {
    const mover = client(port, plan, members, r, MOVER, base);
    const observers = Array.from({ length: OBSERVERS }, (_, k) =>
      client(port, plan, members, r, 2 + k, base),
    );
    for (const o of observers) {
      o.doc.getMap('findings').observe((event) => {
        if (!event.keysChanged.has(FINDING_ID)) return;
        const box = o.doc.getMap('findings').get(FINDING_ID) as { updatedAt?: number } | undefined;
        // Only moves sent in this cycle: what the observer got at sync from the store is not a new ack.
        if (box?.updatedAt && box.updatedAt >= base) {
          seenMoves++;
          if (box.updatedAt > lastSeen[r]!) lastSeen[r] = box.updatedAt;
        }
      });
    }
    return { mover, observers, sent: 0 };
  });
  const all = rooms.flatMap((room) => [room.mover, ...room.observers]);
  if (!(await ready(all, 20_000)))
    throw new Error(`cycle ${cycle}: clients did not sync\n${server.output.slice(-2000)}`);
  const seenBefore = seenMoves;
  const runMs = MIN_MS + Math.random() * (MAX_MS - MIN_MS);
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - started;
      if (now >= runMs) {
        // kill -9 in the middle of the traffic: one more move per room, then the kill a random
        // 0-3 ms later, so moves are in flight (sent, maybe stored, maybe relayed) when it lands.
        for (const room of rooms) {
          room.mover.sendMove(room.sent++);
          sent++;
        }
        const lag = Math.random() * 3;
        const until = performance.now() + lag;
        while (performance.now() < until) {}
        process.kill(server.pid, 'SIGKILL');
        resolve();
        return;
      }
      for (const [r, room] of rooms.entries()) {
        const due = Math.floor(((now + (r / ROOMS) * (1000 / RATE)) * RATE) / 1000);
        while (room.sent < due) {
          room.mover.sendMove(room.sent++);
          sent++;
        }
      }
      setTimeout(tick, 2);
    };
    tick();
  });
  await server.waitExit();
  // Nothing a client holds may reach the restarted server.
  for (const c of all) c.close();
  sentMoves += sent;
  return { runMs, sent, seen: seenMoves - seenBefore };
}

async function main(): Promise<void> {
  process.setMaxListeners(0);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-kill9-'));
  guard(CYCLES * 90_000 + 60_000, () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const runId = Math.random().toString(36).slice(2, 8);
  const started = performance.now();
  let server = await startServer(port, dataDir);
  const baseUrl = `http://127.0.0.1:${port}`;
  const plan = await setUpServer(baseUrl, ROOMS, runId);
  let members: Member[] = [...plan.members];
  console.log(
    `kill -9 x ${CYCLES}: ${ROOMS} rooms, 1 mover at ${RATE}/s + ${OBSERVERS} observers each (full clients)`,
  );
  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const { runMs, sent, seen } = await loadAndKill(server, port, plan, members, cycle);
      children.delete(server);
      const restartAt = performance.now();
      server = await startServer(port, dataDir);
      const restartMs = performance.now() - restartAt;
      // Sessions may or may not outlive the process: log in again (same people) to be sure.
      members = await Promise.all(
        plan.members.map(async (_, i) => {
          const username = `bench-${runId}-${i}`;
          return login(baseUrl, username, `${username}-password`);
        }),
      );
      const before = missing.length;
      await checkRestored(port, plan, members, cycle);
      console.log(
        `cycle ${String(cycle).padStart(2)}: killed after ${(runMs / 1000).toFixed(2)} s, ${sent} moves sent, ` +
          `${seen} observations, restart ${(restartMs / 1000).toFixed(1)} s, ` +
          `${missing.length === before ? 'restored ok' : `MISSING: ${missing.slice(before).join('; ')}`}`,
      );
    }
  } finally {
    await server.stop();
    children.delete(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(
    `\n${CYCLES} kill -9 cycles in ${((performance.now() - started) / 1000).toFixed(0)} s: ${sentMoves} moves sent, ` +
      `${seenMoves} observer-seen moves (acknowledged), ${checked} room restores checked against the last seen move; ` +
      `missing: ${missing.length}`,
  );
  if (missing.length > 0) console.log(`  ${missing.join('\n  ')}`);
  process.exitCode = missing.length === 0 ? 0 : 1;
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
