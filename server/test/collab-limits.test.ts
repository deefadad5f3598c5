import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { UpdateWriter } from '../src/collab/update-writer.js';
import type { StoredUpdate } from '../src/db/doc-store.js';
import type { RunningServer } from '../src/main.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { until } from './helpers/yjs-client.js';

describe('connection limits', () => {
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({
      WS_MAX_MESSAGES_PER_SECOND: '50',
      WS_MAX_PENDING_MESSAGES: '3',
      WS_KEEPALIVE_MS: '100',
    });
    panel = await createPanel(server, { readers: 1 });
  });
  afterAll(async () => {
    await server.close();
  });

  const open = async () => {
    const url = `${server.url.replace('http', 'ws')}/yjs/${panel.sessionId}/${panel.scanIds[0]}?token=${panel.readers[0]!.token}`;
    const ws = new WebSocket(url);
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer) => received.push(data));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    return { ws, closed, received };
  };

  it('R-PROTO-3: more messages than the pending queue holds before the document is ready: 4413', async () => {
    // The frames travel in the same TCP write as the upgrade request, so they certainly arrive
    // while access is still being checked.
    const net = await import('node:net');
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    const frame = Buffer.from([0x82, 0x81, 0, 0, 0, 0, 3]); // masked binary frame: query awareness
    const request = [
      `GET /yjs/${panel.sessionId}/${panel.scanIds[0]}?token=${panel.readers[0]!.token} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
    let response = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      response = Buffer.concat([response, d]);
    });
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.write(Buffer.concat([Buffer.from(request), ...Array.from({ length: 10 }, () => frame)]));
    // A close frame from the server: 0x88, length, then the 2-byte code.
    await until(() => response.includes(Buffer.from([0x88])), 5000, 'close frame');
    const at = response.indexOf(Buffer.from([0x88]), response.indexOf('\r\n\r\n'));
    expect(response.readUInt16BE(at + 2)).toBe(4413);
    socket.destroy();
  });

  it('R-PROTO-4: a connection over the message rate is closed with 4429', async () => {
    const { ws, closed, received } = await open();
    await until(() => received.length > 0, 5000, 'sync step 1 from the server');
    for (let i = 0; i < 400 && ws.readyState === WebSocket.OPEN; i++) ws.send(new Uint8Array([3]));
    expect(await closed).toBe(4429);
  });

  it('R-PROTO-5: an idle connection receives keepalive frames (an empty awareness update)', async () => {
    const { ws, received } = await open();
    await until(() => received.some((m) => m.equals(Buffer.from([1, 1, 0]))), 5000, 'keepalive');
    ws.close();
  });
});

describe('the update writer', () => {
  it('R-DUR-2: a failed write is retried, never dropped, and callers learn of it only once stored', async () => {
    const stored: StoredUpdate[][] = [];
    let failures = 2;
    const writer = new UpdateWriter(
      {
        append: async (batch) => {
          if (failures-- > 0) throw new Error('database unavailable');
          stored.push([...batch]);
          return batch.map((_, i) => i + 1);
        },
      },
      pino({ level: 'silent' }),
    );
    const room = { sessionId: 's', scanId: 'x' };
    const settled: Array<number | string> = [];
    const a = writer.write({ room, data: new Uint8Array([1]), userId: 'u' }).then((seq) => settled.push(seq));
    const b = writer.write({ room, data: new Uint8Array([2]), userId: 'u' }).then((seq) => settled.push(seq));
    await Promise.all([a, b]);
    expect(settled).toEqual([1, 2]);
    expect(stored.flat().map((u) => u.data[0])).toEqual([1, 2]);
    expect(writer.pending).toBe(0);
  });
});
