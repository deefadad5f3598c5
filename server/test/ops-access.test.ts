import { PROTOCOL_VERSION } from '@cxr/shared';
import { type Socket, io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { Api, type Member, type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';
import { refusal } from './realtime/live-client.js';

/** A live-panel socket that records why the server let it go. */
async function liveSocket(url: string, token: string, sessionId: string) {
  const socket: Socket = io(url, {
    auth: { token, sessionId, v: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const seen: { revoked?: { code: string; message: string }; disconnect?: string } = {};
  socket.on('access:revoked', (payload: { code: string; message: string }) => {
    seen.revoked = payload;
  });
  socket.on('disconnect', (reason) => {
    seen.disconnect = reason;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, seen };
}

describe('ops: access revocation', () => {
  let server: RunningServer;
  let panel: Panel;
  let admin: Api;

  beforeAll(async () => {
    server = await startTestServer();
    panel = await createPanel(server, { readers: 3 });
    admin = new Api(server.url, panel.admin.token);
  });
  afterAll(async () => {
    await server?.close();
  });

  const open = async (member: Member, sessionId = panel.sessionId) => {
    const doc = new TestClient(server.url, sessionId, panel.scanIds[0]!, member.token);
    await until(() => doc.synced, 5000, 'sync');
    const live = await liveSocket(server.url, member.token, sessionId);
    return { doc, live };
  };

  it('R-SEC-6 R-SEC-9: a disabled user’s Yjs (4401) and socket.io connections close at once, reconnects and log-ins are refused, and it is audited in the admin chain', async () => {
    const reader = panel.readers[0]!;
    const { doc, live } = await open(reader);
    try {
      const started = Date.now();
      const res = await admin.call('PATCH', `/api/users/${reader.id}`, { disabled: true });
      expect(res.status).toBe(200);
      expect(res.body.disabled).toBe(true);
      expect((await doc.closedByServer()).code).toBe(4401);
      await until(() => live.seen.disconnect !== undefined, 5000, 'socket.io disconnect');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(live.seen.revoked).toEqual({ code: 'unauthenticated', message: 'your account was disabled' });
      expect(live.seen.disconnect).toBe('io server disconnect');
      expect(
        (await refusal(server.url, { token: reader.token, sessionId: panel.sessionId, v: PROTOCOL_VERSION }))
          .code,
      ).toBe('unauthenticated');
      const again = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, reader.token);
      expect((await again.closedByServer()).code).toBe(4401);
      again.destroy();
      expect(
        (
          await new Api(server.url).call('POST', '/api/auth/login', {
            username: reader.username,
            password: `${reader.username}-password`,
          })
        ).status,
      ).toBe(401);
      const log = await admin.call('GET', '/api/admin/audit');
      expect(log.body.verified).toBe(true);
      const entries = log.body.entries as Array<{
        kind: string;
        actor: string;
        payload: Record<string, unknown>;
      }>;
      expect(entries.at(-1)).toMatchObject({
        kind: 'user-update',
        actor: panel.admin.id,
        payload: { userId: reader.id, before: { disabled: false }, after: { disabled: true } },
      });
      // Enabling again restores access (nothing else is closed).
      expect((await admin.call('PATCH', `/api/users/${reader.id}`, { disabled: false })).status).toBe(200);
      const back = new TestClient(server.url, panel.sessionId, panel.scanIds[0]!, reader.token);
      await until(() => back.synced, 5000, 'sync after enabling');
      back.destroy();
    } finally {
      doc.destroy();
      live.socket.disconnect();
    }
  });

  it('R-SEC-7: a reader removed from a panel loses that session at once (4403, forbidden) and keeps their other sessions', async () => {
    const reader = panel.readers[1]!;
    const other = await admin.call('POST', '/api/sessions', {
      name: 'second panel',
      moderatorId: panel.moderator.id,
      readerIds: [reader.id],
      scanIds: panel.scanIds,
    });
    expect(other.status).toBe(201);
    const otherId = String(other.body.id);
    const here = await open(reader);
    const there = await open(reader, otherId);
    try {
      const moderator = new Api(server.url, panel.moderator.token);
      expect(
        (await moderator.call('DELETE', `/api/sessions/${panel.sessionId}/readers/${reader.id}`)).status,
      ).toBe(204);
      expect((await here.doc.closedByServer()).code).toBe(4403);
      await until(() => here.live.seen.disconnect !== undefined, 5000, 'socket.io disconnect');
      expect(here.live.seen.revoked?.code).toBe('forbidden');
      // The other session is untouched.
      expect(there.doc.closes).toEqual([]);
      expect(there.live.socket.connected).toBe(true);
      expect(
        (await refusal(server.url, { token: reader.token, sessionId: panel.sessionId, v: PROTOCOL_VERSION }))
          .code,
      ).toBe('forbidden');
      const session = await admin.call('GET', `/api/sessions/${panel.sessionId}`);
      expect(session.body.readerIds).not.toContain(reader.id);
      // A second removal finds nobody.
      expect(
        (await moderator.call('DELETE', `/api/sessions/${panel.sessionId}/readers/${reader.id}`)).status,
      ).toBe(404);
      const log = await admin.call('GET', '/api/admin/audit');
      const entries = log.body.entries as Array<{ kind: string; actor: string; payload: unknown }>;
      expect(entries.at(-1)).toMatchObject({
        kind: 'reader-remove',
        actor: panel.moderator.id,
        payload: { sessionId: panel.sessionId, userId: reader.id },
      });
    } finally {
      for (const c of [here, there]) {
        c.doc.destroy();
        c.live.socket.disconnect();
      }
    }
  });

  it('R-SEC-8: a role change closes the user’s connections with forbidden (they log in again)', async () => {
    const reader = panel.readers[2]!;
    const { doc, live } = await open(reader);
    try {
      expect((await admin.call('PATCH', `/api/users/${reader.id}`, { role: 'moderator' })).body.role).toBe(
        'moderator',
      );
      expect((await doc.closedByServer()).code).toBe(4403);
      await until(() => live.seen.revoked !== undefined, 5000, 'access:revoked');
      expect(live.seen.revoked?.code).toBe('forbidden');
    } finally {
      doc.destroy();
      live.socket.disconnect();
    }
  });

  it('R-SEC-6: bad requests are refused (tried: non-admin, self, unknown user, empty body, wrong types, extra fields; outsider and another moderator removing)', async () => {
    const reader = new Api(server.url, panel.outsider.token);
    expect(
      (await reader.call('PATCH', `/api/users/${panel.readers[0]!.id}`, { disabled: true })).status,
    ).toBe(403);
    expect((await admin.call('PATCH', `/api/users/${panel.admin.id}`, { disabled: true })).status).toBe(403);
    expect((await admin.call('PATCH', '/api/users/no-such-user', { disabled: true })).status).toBe(404);
    for (const body of [{}, { disabled: 'yes' }, { role: 'root' }, { disabled: true, extra: 1 }]) {
      const res = await admin.call('PATCH', `/api/users/${panel.readers[0]!.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error?.code).toBe('validation_failed');
    }
    const otherPanel = await createPanel(server, { readers: 1 });
    const otherModerator = new Api(server.url, otherPanel.moderator.token);
    const target = `/api/sessions/${panel.sessionId}/readers/${panel.readers[0]!.id}`;
    expect((await otherModerator.call('DELETE', target)).status).toBe(403);
    expect((await reader.call('DELETE', target)).status).toBe(403);
    expect((await new Api(server.url).call('DELETE', target)).status).toBe(401);
    expect(
      (await admin.call('DELETE', `/api/sessions/no-such-session/readers/${panel.readers[0]!.id}`)).status,
    ).toBe(404);
  });
});
