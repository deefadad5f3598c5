import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient } from 'redis';

/**
 * Carries stored updates of a scan document between server nodes. Each node publishes what it
 * stored itself; the others apply it to their copy and broadcast it to their own clients, but
 * do not store it again (it is stored once, by the node that accepted it).
 */
export interface Fanout {
  /** Starts receiving a room's updates; call before loading the room so none slips between. */
  join(room: string, onMessage: (kind: FanoutKind, payload: Uint8Array) => void): Promise<void>;
  leave(room: string): Promise<void>;
  publish(room: string, kind: FanoutKind, payload: Uint8Array): void;
  close(): Promise<void>;
}

/** A stored document update, or an awareness update (cursors; lossy, never stored). */
export type FanoutKind = 'update' | 'awareness';
const KIND_BYTE: Record<FanoutKind, number> = { update: 0, awareness: 1 };

/** Fan-out over Redis pub/sub; messages are `<node id length><node id><kind><payload>`. */
export async function createRedisFanout(
  url: string,
  log: Logger,
  onError?: (client: string) => void,
  /** Deployments sharing one Redis keep apart by prefix (REDIS_KEY_PREFIX). */
  keyPrefix = 'cxr:',
): Promise<Fanout> {
  const channelPrefix = `${keyPrefix}yjs:`;
  const nodeId = Buffer.from(randomBytes(8).toString('hex'));
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const client of [pub, sub])
    client.on('error', (error: unknown) => {
      onError?.('fanout');
      log.error({ err: error }, 'redis fan-out error');
    });
  await pub.connect();
  await sub.connect();
  const handlers = new Map<string, (kind: FanoutKind, payload: Uint8Array) => void>();

  return {
    async join(room, onMessage) {
      handlers.set(room, onMessage);
      await sub.subscribe(
        channelPrefix + room,
        (message: Buffer) => {
          const idLength = message[0] ?? 0;
          const sender = message.subarray(1, 1 + idLength);
          if (sender.equals(nodeId)) return;
          const kind: FanoutKind = message[1 + idLength] === KIND_BYTE.awareness ? 'awareness' : 'update';
          handlers.get(room)?.(kind, new Uint8Array(message.subarray(2 + idLength)));
        },
        true,
      );
    },
    async leave(room) {
      handlers.delete(room);
      await sub.unsubscribe(channelPrefix + room);
    },
    publish(room, kind, payload) {
      const message = Buffer.concat([
        Buffer.from([nodeId.length]),
        nodeId,
        Buffer.from([KIND_BYTE[kind]]),
        payload,
      ]);
      pub.publish(channelPrefix + room, message).catch((error: unknown) => {
        // Another node misses this live update but still reads it from the database on its next
        // load; clients of that node resync on reconnect.
        log.error({ err: error, room }, 'publishing an update to other nodes failed');
      });
    },
    async close() {
      handlers.clear();
      // quit() waits for Redis to answer and hangs shutdown while Redis is away; with nothing
      // to flush then, a disconnected client is dropped at once.
      await Promise.allSettled(
        [sub, pub].map((client) => (client.isReady ? client.quit() : Promise.resolve(client.destroy()))),
      );
    },
  };
}
