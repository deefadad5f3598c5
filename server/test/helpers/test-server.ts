import { type Config, parseConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { tempDir } from './temp-root.js';

export const ADMIN = { username: 'admin', password: 'admin-test-password' };

export type Backend = 'sqlite' | 'postgres';
export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Servers' data folders come from the run's temporary folder; tests import it from here too. */
export { tempDir };

/** A unique PostgreSQL schema name for one test file's server. */
export function pgSchemaName(): string {
  return `t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const result = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: tempDir(),
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'silent',
    ROOM_IDLE_UNLOAD_MS: '50',
    ...env,
  });
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.config;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(testConfig(env));
}

/** A small typed HTTP client for tests. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  as(token: string): Api {
    return new Api(this.baseUrl, token);
  }

  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    };
    const res = await fetch(this.baseUrl + url, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return {
      status: res.status,
      body: json as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  }

  async login(username: string, password: string): Promise<{ token: string; id: string }> {
    const res = await this.call('POST', '/api/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    const user = res.body.user as { id: string };
    return { token: String(res.body.token), id: user.id };
  }
}

export interface Member {
  readonly id: string;
  readonly username: string;
  readonly token: string;
}

export interface Panel {
  readonly api: Api;
  readonly admin: Member;
  readonly moderator: Member;
  readonly readers: Member[];
  readonly outsider: Member;
  readonly sessionId: string;
  readonly scanIds: string[];
}

let panelCounter = 0;

/** Creates a moderator, `readers` readers, an outsider, scans and one session through the API. */
export async function createPanel(
  server: Pick<RunningServer, 'url'>,
  options: { readers?: number; scans?: Array<{ rows: number; columns: number }> } = {},
): Promise<Panel> {
  const api = new Api(server.url);
  const n = ++panelCounter;
  const adminLogin = await api.login(ADMIN.username, ADMIN.password);
  const adminApi = api.as(adminLogin.token);
  const make = async (username: string, role: string): Promise<Member> => {
    const password = `${username}-password`;
    const res = await adminApi.call('POST', '/api/users', { username, password, role });
    if (res.status !== 201) throw new Error(`create user: ${JSON.stringify(res.body)}`);
    const login = await api.login(username, password);
    return { id: login.id, username, token: login.token };
  };
  const suffix = `${n}-${Math.random().toString(36).slice(2, 6)}`;
  const moderator = await make(`mod-${suffix}`, 'moderator');
  const readers: Member[] = [];
  for (let i = 0; i < (options.readers ?? 2); i++) readers.push(await make(`reader${i}-${suffix}`, 'reader'));
  const outsider = await make(`outsider-${suffix}`, 'reader');
  const scanIds: string[] = [];
  for (const [i, size] of (options.scans ?? [{ rows: 1000, columns: 800 }]).entries()) {
    const id = `scan-${suffix}-${i}`;
    const res = await adminApi.call('POST', '/api/scans', { id, ...size });
    if (res.status !== 201) throw new Error(`register scan: ${JSON.stringify(res.body)}`);
    scanIds.push(id);
  }
  const session = await adminApi.call('POST', '/api/sessions', {
    name: `panel ${suffix}`,
    moderatorId: moderator.id,
    readerIds: readers.map((r) => r.id),
    scanIds,
  });
  if (session.status !== 201) throw new Error(`create session: ${JSON.stringify(session.body)}`);
  return {
    api,
    admin: { id: adminLogin.id, username: ADMIN.username, token: adminLogin.token },
    moderator,
    readers,
    outsider,
    sessionId: String(session.body.id),
    scanIds,
  };
}

/** A free TCP port on loopback (for servers started as separate processes). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
