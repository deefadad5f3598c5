import { type ClientOptions, WebSocket } from 'ws';

/** A plain `ws` client on a y-websocket URL, for tests that speak the wire protocol by hand. */
export interface RawSocket {
  readonly ws: WebSocket;
  /** Every message received so far, in order. */
  readonly received: Buffer[];
  /** The close code, once closed. */
  closedWith(): number | undefined;
}

/** Opens `url` and resolves once the connection is open. */
export async function openRawSocket(url: string, options: ClientOptions = {}): Promise<RawSocket> {
  const ws = new WebSocket(url, options);
  const received: Buffer[] = [];
  let code: number | undefined;
  ws.on('message', (data: Buffer) => received.push(data));
  ws.on('close', (closeCode) => {
    code = closeCode;
  });
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, received, closedWith: () => code };
}
