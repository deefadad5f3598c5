import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { holdThread } from './helpers/hold-thread.js';
import { openRawSocket } from './helpers/raw-socket.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { until } from './helpers/yjs-client.js';

/**
 * R-PROTO-5: pings find dead peers, and a pause of the server itself is not taken for one.
 * The server runs in this process with a ping every 200 ms.
 */
describe('R-PROTO-5: keepalive pings', () => {
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({ WS_PING_INTERVAL_MS: '200' });
    panel = await createPanel(server, { readers: 1 });
  });
  afterAll(async () => {
    await server.close();
  });

  const open = (options: { autoPong?: boolean } = {}) =>
    openRawSocket(
      `${server.url.replace('http', 'ws')}/yjs/${panel.sessionId}/${panel.scanIds[0]}?token=${panel.readers[0]!.token}`,
      options,
    );

  it('R-PROTO-5: a peer that does not answer pings is dropped', async () => {
    const client = await open({ autoPong: false });
    await until(() => client.closedWith() !== undefined, 5000, 'the silent peer dropped');
    // Terminated, not closed with a code: the socket is gone.
    expect(client.closedWith()).toBe(1006);
  });

  it('R-PROTO-5: a server pause between a ping and reading its pong drops no one', async () => {
    const client = await open();
    await until(() => client.received.length > 0, 5000, 'sync step 1 from the server');
    // Three times: a ping arrives and is answered at once, and before the server reads that
    // answer its event loop stalls for 1.2 s (in the check phase, as a long store would). The
    // next ping round runs before any socket is read; it used to find the pong "missing".
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        client.ws.once('ping', () =>
          setImmediate(() => {
            holdThread(1200);
            resolve();
          }),
        );
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(client.closedWith()).toBeUndefined();
    }
    // Still served: a sync step 1 gets its step 2.
    const before = client.received.length;
    client.ws.send(new Uint8Array([0, 0, 1, 0]));
    await until(
      () =>
        client.closedWith() !== undefined ||
        client.received.slice(before).some((m) => m[0] === 0 && m[1] === 1),
      5000,
      'sync step 2 or a close',
    );
    expect(client.closedWith()).toBeUndefined();
    client.ws.close();
  });
});
