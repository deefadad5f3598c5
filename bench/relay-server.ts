/**
 * The fan-out floor for bench/collab-load.ts: a WebSocket server that forwards every frame to
 * the other sockets on the same URL path. No CRDT, no guard, no storage, no auth.
 *
 *   PORT=1234 node --import tsx bench/relay-server.ts
 *
 * Listens on 127.0.0.1 only; stops on SIGTERM or SIGINT.
 */
import http from 'node:http';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 0);
const rooms = new Map<string, Set<WebSocket>>();

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('relay\n');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  let peers = rooms.get(path);
  if (!peers) {
    peers = new Set();
    rooms.set(path, peers);
  }
  const room = peers;
  room.add(ws);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    for (const peer of room) {
      if (peer !== ws && peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary });
    }
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    room.delete(ws);
    if (room.size === 0) rooms.delete(path);
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`relay listening on ${typeof address === 'object' && address ? address.port : port}`);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
