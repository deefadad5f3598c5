import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/main.js';
import type { RunningServer } from '../src/main.js';
import { ADMIN, Api, type Panel, createPanel, startTestServer, testConfig } from './helpers/test-server.js';

/**
 * Bad inputs tried here: wrong password, unknown user, missing and extra fields, malformed
 * JSON, an oversized body, a short password, an unknown role, a duplicate username, a sixth
 * reader, the moderator listed as a reader, unknown readers and scans, repeated scans, scans
 * of size 0 or over 8192, a duplicate scan id, an unknown route; and every route without a
 * token or with the wrong role.
 */
describe('HTTP API', () => {
  let server: RunningServer;
  let panel: Panel;
  let admin: Api;

  beforeAll(async () => {
    server = await startTestServer({ HTTP_BODY_LIMIT_BYTES: String(64 * 1024) });
    panel = await createPanel(server, { readers: 2 });
    admin = panel.api.as(panel.admin.token);
  });
  afterAll(async () => {
    await server.close();
  });

  it('R-API-1: log-in returns a token and the user; bad credentials are 401 invalid_credentials', async () => {
    const ok = await panel.api.call('POST', '/api/auth/login', ADMIN);
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(ok.body).not.toHaveProperty('user.passwordHash');
    for (const body of [
      { username: 'admin', password: 'wrong-password' },
      { username: 'nobody', password: 'whatever-password' },
    ]) {
      const res = await panel.api.call('POST', '/api/auth/login', body);
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe('invalid_credentials');
    }
    const missing = await panel.api.call('POST', '/api/auth/login', { username: 'admin' });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe('validation_failed');
    const malformed = await panel.api.call('POST', '/api/auth/login', '{"username":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('bad_request');
    const huge = await panel.api.call('POST', '/api/auth/login', {
      username: 'a',
      password: 'x'.repeat(100_000),
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.code).toBe('payload_too_large');
  });

  it('R-API-2: every protected route needs a valid token (401 unauthenticated)', async () => {
    for (const [method, url] of [
      ['GET', '/api/me'],
      ['GET', '/api/users'],
      ['POST', '/api/users'],
      ['GET', '/api/sessions'],
      ['POST', '/api/sessions'],
      ['GET', `/api/sessions/${panel.sessionId}`],
      ['POST', '/api/scans'],
      ['GET', `/api/scans/${panel.scanIds[0]}`],
    ] as const) {
      const res = await panel.api.as('garbage-token').call(method, url, method === 'POST' ? {} : undefined);
      expect(res.status, `${method} ${url}`).toBe(401);
      expect(res.body.error?.code).toBe('unauthenticated');
    }
  });

  it('R-PERM-1: only admins create users; bad users are refused with a code', async () => {
    const reader = panel.api.as(panel.readers[0]!.token);
    expect(
      (await reader.call('POST', '/api/users', { username: 'x1', password: 'password-1', role: 'reader' }))
        .status,
    ).toBe(403);
    expect((await reader.call('GET', '/api/users')).status).toBe(403);
    const cases: Array<[unknown, number, string]> = [
      [{ username: 'short', password: 'short', role: 'reader' }, 400, 'validation_failed'],
      [{ username: 'ok-name', password: 'long-enough', role: 'superuser' }, 400, 'validation_failed'],
      [{ username: 'Bad Name', password: 'long-enough', role: 'reader' }, 400, 'validation_failed'],
      [{ username: 'extra', password: 'long-enough', role: 'reader', admin: true }, 400, 'validation_failed'],
      [{ username: panel.readers[0]!.username, password: 'long-enough', role: 'reader' }, 409, 'conflict'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin.call('POST', '/api/users', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error?.code).toBe(code);
    }
    const created = await admin.call('POST', '/api/users', {
      username: 'new-reader',
      password: 'long-enough',
      role: 'reader',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'new-reader', role: 'reader', disabled: false });
    expect((await admin.call('GET', '/api/users')).body.users).toEqual(
      expect.arrayContaining([expect.objectContaining({ username: 'new-reader' })]),
    );
  });

  it('R-PERM-2: sessions: at most 5 readers, a moderator who is not a reader, known people and scans', async () => {
    const base = {
      name: 'S',
      moderatorId: panel.moderator.id,
      readerIds: [panel.readers[0]!.id],
      scanIds: panel.scanIds,
    };
    const cases: Array<[unknown, string]> = [
      [{ ...base, readerIds: ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'] }, 'six readers'],
      [{ ...base, readerIds: [panel.moderator.id] }, 'moderator as reader'],
      [{ ...base, readerIds: ['no-such-user'] }, 'unknown reader'],
      [{ ...base, scanIds: ['no-such-scan'] }, 'unknown scan'],
      [{ ...base, scanIds: [panel.scanIds[0], panel.scanIds[0]] }, 'repeated scan'],
      [{ ...base, moderatorId: panel.readers[1]!.id }, 'a reader as moderator'],
      [{ ...base, name: '' }, 'empty name'],
    ];
    for (const [body, what] of cases) {
      const res = await admin.call('POST', '/api/sessions', body);
      expect(res.status, what).toBe(400);
      expect(res.body.error?.code, what).toBe('validation_failed');
    }
    const reader = panel.api.as(panel.readers[0]!.token);
    expect((await reader.call('POST', '/api/sessions', base)).status).toBe(403);
    const moderator = panel.api.as(panel.moderator.token);
    const own = await moderator.call('POST', '/api/sessions', base);
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ moderatorId: panel.moderator.id, readerIds: [panel.readers[0]!.id] });
  });

  it('R-PERM-3: a session is visible to its panel and admins only', async () => {
    const url = `/api/sessions/${panel.sessionId}`;
    const member = await panel.api.as(panel.readers[1]!.token).call('GET', url);
    expect(member.status).toBe(200);
    expect(member.body.members).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: panel.moderator.id, role: 'moderator' })]),
    );
    expect((await panel.api.as(panel.outsider.token).call('GET', url)).status).toBe(403);
    expect((await admin.call('GET', url)).status).toBe(200);
    expect((await admin.call('GET', '/api/sessions/nope')).status).toBe(404);
    const mine = await panel.api.as(panel.readers[1]!.token).call('GET', '/api/sessions');
    expect((mine.body.sessions as Array<{ id: string }>).map((s) => s.id)).toContain(panel.sessionId);
    const theirs = await panel.api.as(panel.outsider.token).call('GET', '/api/sessions');
    expect(theirs.body.sessions).toEqual([]);
    expect(
      (await panel.api.as(panel.outsider.token).call('GET', `/api/scans/${panel.scanIds[0]}`)).status,
    ).toBe(403);
    expect(
      (await panel.api.as(panel.readers[0]!.token).call('GET', `/api/scans/${panel.scanIds[0]}`)).status,
    ).toBe(200);
  });

  it('R-API-3: scans registered by id and size; bad sizes and duplicates refused', async () => {
    for (const body of [
      { id: 'z', rows: 0, columns: 10 },
      { id: 'z', rows: 10, columns: 8193 },
      { id: 'bad id!', rows: 10, columns: 10 },
      { id: 'z', rows: 1.5, columns: 10 },
    ]) {
      const res = await admin.call('POST', '/api/scans', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await admin.call('POST', '/api/scans', { id: 'reg-1', rows: 10, columns: 20 })).status).toBe(201);
    const dup = await admin.call('POST', '/api/scans', { id: 'reg-1', rows: 10, columns: 20 });
    expect(dup.status).toBe(409);
    const reader = panel.api.as(panel.readers[0]!.token);
    expect((await reader.call('POST', '/api/scans', { id: 'reg-2', rows: 10, columns: 20 })).status).toBe(
      403,
    );
  });

  it('R-API-4: unknown routes answer 404 with the error shape; health is open', async () => {
    const res = await panel.api.call('GET', '/api/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('not_found');
    expect((await panel.api.call('GET', '/api/health')).body).toEqual({
      status: 'ok',
      live: true,
      pacs: false,
    });
  });

  it('R-AUTH-3: tokens survive a restart (the signing key is kept in DATA_DIR, owner-only)', async () => {
    const config = testConfig();
    const first = await startServer(config);
    const { token } = await new Api(first.url).login(ADMIN.username, ADMIN.password);
    await first.close();
    const fs = await import('node:fs');
    expect(fs.statSync(`${config.dataDir}/token-secret`).mode & 0o777).toBe(0o600);
    const second = await startServer(config);
    const me = await new Api(second.url, token).call('GET', '/api/me');
    expect(me.status).toBe(200);
    await second.close();
  });

  it('R-API-5: a WebSocket upgrade to a path nobody serves is answered 404 and closed', async () => {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/nowhere`);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});
