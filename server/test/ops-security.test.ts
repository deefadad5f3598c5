import { PROTOCOL_VERSION } from '@cxr/shared';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningServer } from '../src/main.js';
import { ADMIN, Api, type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

const ALLOWED = 'https://viewer.example.org';

/** A y-websocket client that sends an `Origin` header, as a browser on that origin would. */
function clientFrom(server: RunningServer, panel: Panel, origin: string): TestClient {
  class BrowserLike extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin });
    }
  }
  const client = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.readers[0]!.token, {
    connect: false,
  });
  Reflect.set(client.provider, '_WS', BrowserLike);
  client.provider.connect();
  return client;
}

/** Connects the live panel with an `Origin` header; resolves `connected` or the error message. */
async function socketFrom(server: RunningServer, panel: Panel, origin: string): Promise<string> {
  const socket = io(server.url, {
    auth: { token: panel.readers[0]!.token, sessionId: panel.sessionId, v: PROTOCOL_VERSION },
    transports: ['websocket'],
    extraHeaders: { origin },
    reconnection: false,
    forceNew: true,
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error: Error) => resolve(error.message));
    });
  } finally {
    socket.disconnect();
  }
}

describe('ops: security', () => {
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({
      CORS_ORIGINS: ALLOWED,
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '5',
      LOGIN_WINDOW_MS: '1500',
    });
    panel = await createPanel(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = (username: string, password: string, address: string) =>
    new Api(server.url).call(
      'POST',
      '/api/auth/login',
      { username, password },
      { 'x-forwarded-for': address },
    );

  it('R-SEC-1: failed log-ins are throttled per account with 429 rate_limited and Retry-After, then the window passes', async () => {
    const name = panel.readers[1]!.username;
    // Tried: three wrong passwords from three addresses (so only the account limit applies).
    for (const [i, address] of ['10.0.0.1', '10.0.0.2', '10.0.0.3'].entries()) {
      expect((await login(name, `wrong-password-${i}`, address)).status).toBe(401);
    }
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.4' },
      body: JSON.stringify({ username: name.toUpperCase(), password: `${name}-password` }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another account from the same address is unaffected.
    expect(
      (await login(panel.readers[0]!.username, `${panel.readers[0]!.username}-password`, '10.0.0.4')).status,
    ).toBe(200);
    await expect
      .poll(async () => (await login(name, `${name}-password`, '10.0.0.5')).status, {
        timeout: 5000,
        interval: 200,
      })
      .toBe(200);
  });

  it('R-SEC-1: one address guessing many accounts is throttled per address; other addresses are not', async () => {
    for (let i = 0; i < 5; i++)
      expect((await login(`nobody-${i}`, 'wrong-password', '10.1.0.1')).status).toBe(401);
    const blocked = await login(ADMIN.username, ADMIN.password, '10.1.0.1');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error?.message).toContain('address');
    expect((await login(ADMIN.username, ADMIN.password, '10.1.0.2')).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/cxr_login_throttled_total\{scope="address"\} [1-9]/);
    expect(metrics).toMatch(/cxr_login_throttled_total\{scope="account"\} [1-9]/);
  });

  it('R-SEC-2: passwords: 8+ characters, not the username, not a common one, not one repeated character', async () => {
    const admin = new Api(server.url, panel.admin.token);
    const tried = [
      { username: 'pw-user-1', password: 'PW-USER-1' },
      { username: 'pw-user-2', password: 'password1' },
      { username: 'pw-user-3', password: '12345678' },
      { username: 'pw-user-4', password: 'aaaaaaaaaa' },
      { username: 'pw-user-5', password: 'short7!' },
    ];
    for (const body of tried) {
      const res = await admin.call('POST', '/api/users', { ...body, role: 'reader' });
      expect(res.status, body.password).toBe(400);
      expect(res.body.error?.code).toBe('validation_failed');
    }
    const fine = await admin.call('POST', '/api/users', {
      username: 'pw-user-6',
      password: 'correct horse battery',
      role: 'reader',
    });
    expect(fine.status).toBe(201);
  });

  it('R-SEC-3: responses carry security headers and a CSP that allows WASM codecs and blob: workers', async () => {
    const res = await fetch(`${server.url}/api/health`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain(" 'unsafe-eval'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('R-SEC-4: CORS answers the listed origin only; other origins get no CORS headers', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/api/me`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    // Tried: another host, the allowed host over http, the allowed host with a port.
    for (const origin of [
      'https://evil.example',
      'http://viewer.example.org',
      'https://viewer.example.org:8443',
    ]) {
      expect((await preflight(origin)).headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    const plain = await startTestServer();
    try {
      const res = await fetch(`${plain.url}/api/health`, { headers: { origin: ALLOWED } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });

  it('R-SEC-5: a WebSocket from a foreign Origin is refused on /yjs (4403) and socket.io; same origin, listed origins and non-browsers connect', async () => {
    const evil = clientFrom(server, panel, 'https://evil.example');
    try {
      const closed = await evil.closedByServer();
      expect(closed.code).toBe(4403);
      expect(closed.reason).toContain('origin not allowed');
    } finally {
      evil.destroy();
    }
    for (const origin of [ALLOWED, server.url]) {
      const good = clientFrom(server, panel, origin);
      try {
        await until(() => good.synced, 5000, `sync from ${origin}`);
      } finally {
        good.destroy();
      }
    }
    const noOrigin = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, panel.readers[0]!.token);
    try {
      await until(() => noOrigin.synced, 5000, 'sync without Origin');
    } finally {
      noOrigin.destroy();
    }
    expect(await socketFrom(server, panel, 'https://evil.example')).not.toBe('connected');
    expect(await socketFrom(server, panel, ALLOWED)).toBe('connected');
    expect(await socketFrom(server, panel, server.url)).toBe('connected');
  });
});
