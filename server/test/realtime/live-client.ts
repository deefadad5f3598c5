import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  type Ack,
  type ClientToServerEvents,
  PROTOCOL_VERSION,
  type PresenceMember,
  type ServerToClientEvents,
  type Vote,
} from '@cxr/shared';
import { type Socket, io } from 'socket.io-client';
import { freePort, tempDir } from '../helpers/test-server.js';
import { until } from '../helpers/yjs-client.js';

export type ConnectError = { code: string; message: string };

/**
 * A real socket.io client of the live panel that records what the server sends: the latest
 * presence, every vote at its highest `seq`, goto / decided / locked / unlocked events.
 */
export class LiveClient {
  readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  presence: PresenceMember[] = [];
  readonly votes = new Map<string, Vote>();
  readonly gotos: Array<{ scanId: string; by: string }> = [];
  readonly decided: Array<Parameters<ServerToClientEvents['scan:decided']>[0]> = [];
  readonly locked: Array<Parameters<ServerToClientEvents['scan:locked']>[0]> = [];
  readonly unlocked: Array<Parameters<ServerToClientEvents['scan:unlocked']>[0]> = [];

  constructor(url: string, auth: { token: string; sessionId: string; v?: number }) {
    this.socket = io(url, {
      auth: { v: PROTOCOL_VERSION, ...auth },
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 300,
      forceNew: true,
    });
    this.socket.on('presence:update', ({ members }) => {
      this.presence = members;
    });
    this.socket.on('vote:update', ({ vote }) => {
      const seen = this.votes.get(vote.id);
      if (!seen || (vote.seq ?? 0) >= (seen.seq ?? 0)) this.votes.set(vote.id, vote);
    });
    this.socket.on('session:goto', (e) => this.gotos.push(e));
    this.socket.on('scan:decided', (e) => this.decided.push(e));
    this.socket.on('scan:locked', (e) => this.locked.push(e));
    this.socket.on('scan:unlocked', (e) => this.unlocked.push(e));
  }

  /** Connects, or resolves with the server's refusal (`connect_error` data). */
  static async open(
    url: string,
    auth: { token: string; sessionId: string; v?: number },
  ): Promise<LiveClient> {
    const client = new LiveClient(url, auth);
    const outcome = await client.connected();
    if (outcome !== true) {
      client.close();
      throw new Error(`connect refused: ${JSON.stringify(outcome)}`);
    }
    return client;
  }

  connected(): Promise<true | ConnectError> {
    return new Promise((resolve) => {
      if (this.socket.connected) return resolve(true);
      this.socket.once('connect', () => resolve(true));
      this.socket.once('connect_error', (error: Error & { data?: ConnectError }) => {
        this.socket.disconnect();
        resolve(error.data ?? { code: 'transport', message: error.message });
      });
    });
  }

  /** Sends a command and waits for its acknowledgement. */
  async send<E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
    timeoutMs = 10_000,
  ): Promise<Ack<Record<string, unknown>>> {
    const emitter = this.socket.timeout(timeoutMs) as unknown as {
      emitWithAck(event: string, payload: unknown): Promise<Ack<Record<string, unknown>>>;
    };
    return emitter.emitWithAck(event, payload);
  }

  /** Sends anything (bad payloads, unknown events), bypassing the typed contract. */
  async raw(event: string, ...args: unknown[]): Promise<unknown> {
    const emitter = this.socket.timeout(5_000) as unknown as {
      emitWithAck(event: string, ...args: unknown[]): Promise<unknown>;
    };
    return emitter.emitWithAck(event, ...args);
  }

  member(userId: string): PresenceMember | undefined {
    return this.presence.find((m) => m.userId === userId);
  }

  close(): void {
    this.socket.disconnect();
  }
}

export const cmd = () => `cmd-${randomUUID()}`;

/** Connect and return the refusal's data (fails if the server accepted). */
export async function refusal(url: string, auth: Record<string, unknown>): Promise<ConnectError> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    return await new Promise<ConnectError>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('server accepted the handshake')));
      socket.once('connect_error', (error: Error & { data?: ConnectError }) =>
        resolve(error.data ?? { code: 'transport', message: error.message }),
      );
    });
  } finally {
    socket.disconnect();
  }
}

/**
 * A private redis-server for tests that stop and restart Redis (never the machine's own).
 * No persistence: a restart loses everything, the worst case the live panel must survive.
 */
export class TestRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    await this.stop();
    const dir = tempDir('cxr-redis-');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await until(
      () => output.includes('Ready to accept connections') || child.exitCode !== null,
      10_000,
      'redis',
    );
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
