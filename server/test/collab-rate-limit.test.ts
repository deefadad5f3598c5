import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RateLimiter } from '../src/collab/rate-limiter.js';
import { StallClock } from '../src/collab/stall-clock.js';
import { holdThread } from './helpers/hold-thread.js';
import { openRawSocket } from './helpers/raw-socket.js';
import { ServerProcess } from './helpers/server-process.js';
import { createPanel, freePort, tempDir } from './helpers/test-server.js';
import { until } from './helpers/yjs-client.js';

/** Takes tokens until the limiter refuses; how many it gave (bounded). */
function drain(limiter: RateLimiter): number {
  let n = 0;
  while (n < 100_000 && limiter.take()) n++;
  return n;
}

describe('R-PROTO-4: message rate and server pauses', () => {
  it('gives a burst of twice the rate, then refuses; a reported pause adds its length in messages', () => {
    let paused = 0;
    // 10 a second: a hiccup of this test's own thread of up to 200 ms refills at most 2.
    const limiter = new RateLimiter(10, { totalMs: () => paused });
    const burst = drain(limiter);
    expect(burst).toBeGreaterThanOrEqual(20);
    expect(burst).toBeLessThanOrEqual(22);
    expect(drain(limiter)).toBeLessThanOrEqual(2);
    paused = 3000;
    const after = drain(limiter);
    expect(after).toBeGreaterThanOrEqual(30);
    expect(after).toBeLessThanOrEqual(32);
    // Counted once: the same total adds nothing more.
    expect(drain(limiter)).toBeLessThanOrEqual(2);
  });

  it('counts pauses of a second or more, not shorter delays', async () => {
    const clock = new StallClock(1000, 50);
    try {
      await new Promise((resolve) => setTimeout(resolve, 60));
      holdThread(300);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(clock.totalMs()).toBe(0);
      // Seen while the pause is still being caught up on (before any timer has run)...
      const before = clock.totalMs();
      holdThread(1300);
      const during = clock.totalMs();
      expect(during - before).toBeGreaterThanOrEqual(1200);
      // ...and the same once the timer has settled it: the total never goes back.
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(clock.totalMs()).toBeGreaterThanOrEqual(during);
      expect(clock.totalMs()).toBeLessThan(during + 100);
    } finally {
      clock.stop();
    }
  });

  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL');
  });

  it('a client that kept sending while the server process was frozen is read, not closed', async () => {
    const server = new ServerProcess(await freePort(), { DATA_DIR: tempDir('cxr-pause-') });
    servers.push(server);
    await server.start();
    const panel = await createPanel(server, { readers: 1 });
    const url = `${server.url.replace('http', 'ws')}/yjs/${panel.sessionId}/${panel.scanIds[0]}?token=${panel.readers[0]!.token}`;
    const { ws, received, closedWith } = await openRawSocket(url);
    await until(() => received.length > 0, 10_000, 'sync step 1 from the server');

    // 200 messages a second (the limit is 300, burst 600) while the server is frozen for 4 s:
    // 800 arrive at once when it wakes up.
    const queryAwareness = new Uint8Array([3]);
    const sendFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end && ws.readyState === WebSocket.OPEN) {
        for (let i = 0; i < 10; i++) ws.send(queryAwareness);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await sendFor(500);
    server.signal('SIGSTOP');
    try {
      await sendFor(4000);
    } finally {
      server.signal('SIGCONT');
    }
    await sendFor(1000);

    // Still open and answering: a sync step 1 gets its step 2.
    const before = received.length;
    if (ws.readyState === WebSocket.OPEN) ws.send(new Uint8Array([0, 0, 1, 0]));
    const answered = () => received.slice(before).some((m) => m[0] === 0 && m[1] === 1);
    await until(() => closedWith() !== undefined || answered(), 10_000, 'sync step 2 or a close');
    // Before stall credit: closed with 4429 as soon as the server woke up.
    expect(closedWith()).toBeUndefined();
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});
