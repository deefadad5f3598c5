/**
 * Capture cost benchmark (issue 23). Neither bench/live-load.ts nor bench/collab-load.ts drives
 * socket.io clients (both speak y-websocket), so this one does: one server (SQLite), R rooms
 * (sessions) x 6 socket.io clients (moderator + 5 readers). Baseline panel traffic in both
 * phases: every client sends `presence:scan` every 2 s and `vote:list` every 2 s. In the
 * "capture on" phase every reader also sends its `analytics:capture` batch every 5 s (the
 * client's interval: active time, 3 tools, 2 finding views). Phases alternate off/on for
 * --rounds rounds in the same run; reports the server's CPU (% of one core) of each and the
 * ratio on/off (goal <= 1.03).
 *
 *   npx tsx bench/analytics-capture-load.ts [--rooms 50] [--seconds 15] [--rounds 2]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Socket, io } from 'socket.io-client';
import { ANALYTICS_CAPTURE_EVENT, ANALYTICS_SEND_INTERVAL_MS, PROTOCOL_VERSION } from '@cxr/shared';
import { cpuSeconds, freePort } from './load/proc.js';
import { startServer } from './load/server.js';
import { inBatches, setUpServer } from './load/setup.js';

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
  },
});
const ROOMS = Number(args.rooms);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const TRAFFIC_MS = 2000;

const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-capture-bench-'));
const server = await startServer(port, dataDir);
const base = `http://127.0.0.1:${port}`;
const sockets: Socket[] = [];
try {
  const plan = await setUpServer(base, ROOMS, Date.now().toString(36));
  const clients: Array<{ socket: Socket; reader: boolean; scanId: string }> = [];
  await inBatches(plan.rooms.length * 6, 20, async (i) => {
    const room = plan.rooms[Math.floor(i / 6)]!;
    const member = plan.members[i % 6]!;
    const socket = io(base, {
      auth: { token: member.token, v: PROTOCOL_VERSION, sessionId: room.sessionId },
      transports: ['websocket'],
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
    clients.push({ socket, reader: i % 6 !== 0, scanId: room.scanId });
  });
  let capture = false;
  let sent = 0;
  let refused = 0;
  const timers: NodeJS.Timeout[] = [];
  for (const c of clients) {
    // Spread the clients over the interval so the load is even, not a thundering herd.
    const offset = Math.random() * TRAFFIC_MS;
    timers.push(
      setTimeout(() => {
        timers.push(
          setInterval(() => {
            c.socket.emit('presence:scan', { scanId: c.scanId }, () => {});
            c.socket.emit('vote:list', { scanId: c.scanId }, () => {});
          }, TRAFFIC_MS),
        );
      }, offset),
    );
    if (!c.reader) continue;
    let n = 0;
    timers.push(
      setTimeout(() => {
        timers.push(
          setInterval(() => {
            if (!capture) return;
            const now = Date.now();
            n++;
            c.socket.emit(
              ANALYTICS_CAPTURE_EVENT,
              {
                batchId: `bench-${c.socket.id}-${n}`,
                sentAt: now,
                scans: [
                  {
                    scanId: c.scanId,
                    activeMs: 4200,
                    ...(n === 1 ? { openedAt: now - 5000 } : {}),
                    tools: { draw: 1, wl: 3, pan: 1 },
                    findingViews: [0, 1].map((k) => ({
                      findingId: `f-${k}`,
                      action: n === 1 ? 'created' : 'changed',
                      at: now - 1000,
                      view: {
                        windowCenter: 2000 + n,
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
                sent++;
                if (!ack.ok) refused++;
              },
            );
          }, ANALYTICS_SEND_INTERVAL_MS),
        );
      }, Math.random() * ANALYTICS_SEND_INTERVAL_MS),
    );
  }
  await new Promise((r) => setTimeout(r, 3000)); // warm-up
  const phase = async (on: boolean) => {
    capture = on;
    await new Promise((r) => setTimeout(r, 1000)); // settle
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    return ((cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  };
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await phase(false));
    on.push(await phase(true));
  }
  for (const t of timers) clearInterval(t);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(
    `${ROOMS} rooms x 6 socket.io clients, ${ROUNDS} x ${SECONDS} s per phase; baseline: presence:scan + vote:list every ${TRAFFIC_MS / 1000} s per client`,
  );
  console.log(
    `server CPU, capture off: ${off.map((v) => v.toFixed(1)).join(', ')} -> mean ${mean(off).toFixed(1)} % of one core`,
  );
  console.log(
    `server CPU, capture on:  ${on.map((v) => v.toFixed(1)).join(', ')} -> mean ${mean(on).toFixed(1)} % of one core`,
  );
  console.log(
    `ratio on/off: ${(mean(on) / mean(off)).toFixed(3)} (goal <= 1.03); batches acked ${sent}, refused ${refused}`,
  );
} finally {
  for (const s of sockets) s.close();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
