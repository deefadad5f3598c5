import { type Finding, PROTOCOL_VERSION, proposeGlobal, putFinding } from '@cxr/shared';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.js';
import { Api, type Panel, createPanel, startTestServer } from '../helpers/test-server.js';
import { TestClient, until } from '../helpers/yjs-client.js';
import { LiveClient, cmd, refusal } from './live-client.js';

/**
 * The live panel over real socket.io clients against a real server (in-process back end,
 * SQLite). The Redis back end runs the same flows in live-redis.test.ts.
 */
describe('live panel (in-process back end)', () => {
  let server: RunningServer;
  let panel: Panel;
  let scanId: string;
  let writer: TestClient;
  const clients: LiveClient[] = [];
  const open = async (token: string) => {
    const client = await LiveClient.open(server.url, { token, sessionId: panel.sessionId });
    clients.push(client);
    return client;
  };
  const finding = (id: string, x = 10): Finding => ({
    id,
    labels: ['Nodule/Mass'],
    box: { x_min: x, y_min: 10, x_max: x + 40, y_max: 60 },
    createdBy: panel.readers[0]!.id,
    updatedBy: panel.readers[0]!.id,
    updatedAt: 1,
  });

  beforeAll(async () => {
    server = await startTestServer({ PRESENCE_HEARTBEAT_MS: '100', PRESENCE_TTL_MS: '1000' });
    panel = await createPanel(server, { readers: 3 });
    scanId = panel.scanIds[0]!;
    writer = new TestClient(server.url, panel.sessionId, scanId, panel.readers[0]!.token);
    await until(() => writer.synced, 5000, 'yjs sync');
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    writer.destroy();
    await server.close();
  });

  it('R-RT-1: the handshake refuses a bad token, another version, an outsider and an unknown session by name', async () => {
    const url = server.url;
    const sessionId = panel.sessionId;
    const v = PROTOCOL_VERSION;
    // Bad inputs tried: no auth at all, a garbage token, a wrong version, a non-numeric version,
    // an outsider's valid token, an unknown session, an id with forbidden characters.
    expect((await refusal(url, {})).code).toBe('unauthenticated');
    expect((await refusal(url, { token: 'not-a-jwt', v, sessionId })).code).toBe('unauthenticated');
    expect((await refusal(url, { token: panel.readers[0]!.token, v: v + 1, sessionId })).code).toBe(
      'version_mismatch',
    );
    expect((await refusal(url, { token: panel.readers[0]!.token, v: 'one', sessionId })).code).toBe(
      'version_mismatch',
    );
    expect((await refusal(url, { token: panel.outsider.token, v, sessionId })).code).toBe('forbidden');
    expect(
      (await refusal(url, { token: panel.readers[0]!.token, v, sessionId: 'no-such-session' })).code,
    ).toBe('not_found');
    expect((await refusal(url, { token: panel.readers[0]!.token, v, sessionId: 'bad id!' })).code).toBe(
      'validation_failed',
    );
  });

  it('R-RT-2 R-MOD-1: malformed commands are refused by name; readers and observers cannot use moderator commands', async () => {
    const reader = await open(panel.readers[1]!.token);
    const admin = await open(panel.admin.token);
    // Bad payloads: missing fields, extra fields, wrong types, a short command id, a bad choice.
    for (const payload of [{}, { scanId, target: { kind: 'finding', id: 'x' } }, null, 'text', 42]) {
      const ack = await reader.raw('vote:open', payload);
      expect(ack).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    }
    expect(await reader.raw('vote:cast', { commandId: 'short', voteId: 'v', choice: 'agree' })).toMatchObject(
      {
        ok: false,
        error: { code: 'validation_failed' },
      },
    );
    expect(await reader.raw('vote:cast', { commandId: cmd(), voteId: 'v', choice: 'maybe' })).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
    expect(
      await reader.raw('scan:lock', { commandId: cmd(), scanId, rejectUndecided: false, extra: 1 }),
    ).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    for (const client of [reader, admin]) {
      const target = { kind: 'global' as const, label: 'COPD' as const };
      for (const ack of [
        await client.send('vote:open', { commandId: cmd(), scanId, target }),
        await client.send('scan:decide', { commandId: cmd(), scanId, target, outcome: 'accepted' }),
        await client.send('scan:lock', { commandId: cmd(), scanId }),
        await client.send('moderator:goto', { scanId }),
        await client.send('session:quorum', { commandId: cmd(), quorum: 1 }),
      ]) {
        expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      }
    }
    // Unlock is for admins only: a reader is refused, the admin gets past the role check.
    expect(await reader.send('scan:unlock', { commandId: cmd(), scanId, reason: 'because' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await admin.send('scan:unlock', { commandId: cmd(), scanId, reason: 'because' })).toMatchObject({
      ok: false,
      error: { code: 'not_locked' },
    });
  });

  it('R-RT-3: an unknown event with an ack is answered unknown_event; a socket that keeps sending them is dropped', async () => {
    const reader = await open(panel.readers[2]!.token);
    expect(await reader.raw('vote:hack', { x: 1 })).toMatchObject({
      ok: false,
      error: { code: 'unknown_event' },
    });
    for (let i = 0; i < 25; i++) reader.socket.emit('nonsense' as 'vote:list', { scanId }, () => undefined);
    await until(() => reader.socket.disconnected, 5000, 'disconnect after repeated unknown events');
  });

  it('R-PRES-1 R-PRES-2: presence lists the panel with role, scan and follow state; goto reaches followers only', async () => {
    const moderator = await open(panel.moderator.token);
    const reader = await open(panel.readers[0]!.token);
    const r0 = panel.readers[0]!.id;
    await until(() => moderator.member(r0)?.online === true, 5000, 'reader online');
    expect(moderator.member(panel.moderator.id)).toMatchObject({ role: 'moderator', online: true });
    expect(moderator.member(r0)).toMatchObject({ role: 'reader', following: true, scanId: null });

    expect(await reader.send('presence:scan', { scanId })).toEqual({ ok: true });
    await until(() => moderator.member(r0)?.scanId === scanId, 5000, 'scan in presence');
    expect(await reader.send('presence:scan', { scanId: 'not-in-session' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });

    expect(await moderator.send('moderator:goto', { scanId })).toEqual({ ok: true });
    await until(() => reader.gotos.length === 1, 5000, 'goto');
    expect(reader.gotos[0]).toEqual({ scanId, by: panel.moderator.id });

    // A reader who stops following is not moved, and comes back by following again.
    expect(await reader.send('follow:set', { following: false })).toEqual({ ok: true });
    await until(() => moderator.member(r0)?.following === false, 5000, 'unfollow visible');
    await moderator.send('moderator:goto', { scanId });
    await moderator.send('follow:set', { following: false });
    expect(reader.gotos).toHaveLength(1);
    await reader.send('follow:set', { following: true });
    await moderator.send('moderator:goto', { scanId });
    await until(() => reader.gotos.length === 2, 5000, 'goto after following again');

    reader.close();
    await until(() => moderator.member(r0)?.online === false, 5000, 'reader offline after leaving');
  });

  it('R-VOTE-1 R-VOTE-3 R-VOTE-5 R-AUDIT-1: open, cast, change, close by quorum writes the decision; the audit chain verifies', async () => {
    putFinding(writer.doc, finding('f-quorum'));
    const moderator = await open(panel.moderator.token);
    const readers = await Promise.all(panel.readers.map((r) => open(r.token)));
    const target = { kind: 'finding' as const, id: 'f-quorum' };
    let opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
    // The finding reaches the server asynchronously; poll until the vote can open.
    const started = Date.now();
    while (!opened.ok && opened.error.code === 'not_found' && Date.now() - started < 5000) {
      opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
    }
    if (!opened.ok) throw new Error(JSON.stringify(opened.error));
    const voteId = String((opened.vote as { id: string }).id);
    expect(await moderator.send('vote:open', { commandId: cmd(), scanId, target })).toMatchObject({
      ok: false,
      error: { code: 'already_open' },
    });

    // The moderator does not vote; readers vote and may change their mind.
    expect(await moderator.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    await readers[0]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'disagree' });
    await readers[0]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' });
    await readers[1]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' });
    const last = await readers[2]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'abstain' });
    expect(last).toMatchObject({
      ok: true,
      vote: { tally: { agree: 2, disagree: 0, abstain: 1 }, quorum: 2 },
    });
    await until(() => moderator.votes.get(voteId)?.tally.abstain === 1, 5000, 'live tally');

    const closed = await moderator.send('vote:close', { commandId: cmd(), voteId });
    expect(closed).toMatchObject({
      ok: true,
      vote: { state: 'closed', outcome: 'accepted', overridden: false },
    });
    expect(
      await readers[1]!.send('vote:cast', { commandId: cmd(), voteId, choice: 'disagree' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'vote_closed' },
    });
    await until(() => readers[0]!.decided.length > 0, 5000, 'scan:decided');
    await until(
      () =>
        JSON.stringify(writer.doc.getMap('decisions').get('finding:f-quorum') ?? null).includes('accepted'),
      5000,
      'decision in the document',
    );

    const audit = await new Api(server.url, panel.readers[0]!.token).call(
      'GET',
      `/api/sessions/${panel.sessionId}/scans/${scanId}/audit`,
    );
    expect(audit.status).toBe(200);
    expect(audit.body.verified).toBe(true);
    const kinds = (audit.body.entries as Array<{ kind: string }>).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['vote-open', 'vote-cast', 'vote-close', 'decision']));
    const outsider = await new Api(server.url, panel.outsider.token).call(
      'GET',
      `/api/sessions/${panel.sessionId}/scans/${scanId}/audit`,
    );
    expect(outsider.status).toBe(403);
  });

  it('R-AUDIT-2: the audit API reports a tampered row as verified=false with where the chain breaks', async () => {
    const path = `/api/sessions/${panel.sessionId}/scans/${scanId}/audit`;
    const api = new Api(server.url, panel.admin.token);
    const before = await api.call('GET', path);
    expect(before.body.verified).toBe(true);
    await sql`update audit_entries set payload = ${'{"forged":true}'} where session_id = ${panel.sessionId} and scan_id = ${scanId} and seq = 2`.execute(
      server.stores.db.kysely,
    );
    const after = await api.call('GET', path);
    expect(after.body).toMatchObject({ verified: false, brokenAt: 2 });
    // Bad inputs to the route: an unknown scan, an unknown session, no token.
    expect((await api.call('GET', `/api/sessions/${panel.sessionId}/scans/nope/audit`)).status).toBe(404);
    expect((await api.call('GET', `/api/sessions/nope/scans/${scanId}/audit`)).status).toBe(404);
    expect((await new Api(server.url).call('GET', path)).status).toBe(401);
  });

  it('R-VOTE-4: changing the finding voids its open vote', async () => {
    putFinding(writer.doc, finding('f-change'));
    const moderator = await open(panel.moderator.token);
    const reader = await open(panel.readers[1]!.token);
    const target = { kind: 'finding' as const, id: 'f-change' };
    let opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
    const started = Date.now();
    while (!opened.ok && Date.now() - started < 5000) {
      opened = await moderator.send('vote:open', { commandId: cmd(), scanId, target });
    }
    if (!opened.ok) throw new Error(JSON.stringify(opened.error));
    const voteId = String((opened.vote as { id: string }).id);
    await reader.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' });
    putFinding(writer.doc, finding('f-change', 20));
    await until(() => reader.votes.get(voteId)?.state === 'void', 5000, 'vote voided');
    expect(await reader.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' })).toMatchObject({
      ok: false,
      error: { code: 'vote_void' },
    });
  });
  it('R-MOD-2 R-MOD-3 R-VOTE-6 R-RT-4 R-LOCK-7: decide directly, override a vote with a reason, lock (undecided refused or rejected, no accepted global label refused), admin unlock', async () => {
    const scan2 = panel.scanIds[0]!;
    const moderator = await open(panel.moderator.token);
    const admin = await open(panel.admin.token);
    const reader = await open(panel.readers[0]!.token);
    putFinding(writer.doc, finding('f-override', 100));
    proposeGlobal(writer.doc, 'Pneumonia', panel.readers[0]!.id);
    const target = { kind: 'finding' as const, id: 'f-override' };
    let opened = await moderator.send('vote:open', { commandId: cmd(), scanId: scan2, target });
    const started = Date.now();
    while (!opened.ok && Date.now() - started < 5000) {
      opened = await moderator.send('vote:open', { commandId: cmd(), scanId: scan2, target });
    }
    if (!opened.ok) throw new Error(JSON.stringify(opened.error));
    const voteId = String((opened.vote as { id: string }).id);
    await reader.send('vote:cast', { commandId: cmd(), voteId, choice: 'agree' });
    // Bad override: a reason too short to explain anything.
    expect(
      await moderator.send('vote:close', {
        commandId: cmd(),
        voteId,
        override: { outcome: 'rejected', reason: 'no' },
      }),
    ).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const closeCmd = cmd();
    const override = { outcome: 'rejected' as const, reason: 'the box covers the clavicle' };
    const closed = await moderator.send('vote:close', { commandId: closeCmd, voteId, override });
    expect(closed).toMatchObject({
      ok: true,
      vote: { outcome: 'rejected', overridden: true, reason: override.reason },
    });
    // A retried close (same command id) gets the same answer instead of vote_closed.
    expect(await moderator.send('vote:close', { commandId: closeCmd, voteId, override })).toEqual(closed);

    expect(await moderator.send('scan:lock', { commandId: cmd(), scanId: scan2 })).toMatchObject({
      ok: false,
      error: { code: 'undecided' },
    });
    await until(() => writer.doc.getMap('globals').has('Pneumonia'), 5000, 'global proposed');
    // R-LOCK-7: rejecting the undecided would leave no accepted global label: refused, and
    // nothing is written (Pneumonia stays undecided, no record).
    expect(
      await moderator.send('scan:lock', { commandId: cmd(), scanId: scan2, rejectUndecided: true }),
    ).toMatchObject({ ok: false, error: { code: 'no_global_label' } });
    expect(writer.doc.getMap('decisions').has('global:Pneumonia')).toBe(false);
    const noRecord = await new Api(server.url, panel.admin.token).call(
      'GET',
      `/api/sessions/${panel.sessionId}/scans/${scan2}/consensus`,
    );
    expect(noRecord.status).toBe(404);
    let decided = await moderator.send('scan:decide', {
      commandId: cmd(),
      scanId: scan2,
      target: { kind: 'global', label: 'Pneumonia' },
      outcome: 'accepted',
    });
    for (let i = 0; !decided.ok && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      decided = await moderator.send('scan:decide', {
        commandId: cmd(),
        scanId: scan2,
        target: { kind: 'global', label: 'Pneumonia' },
        outcome: 'accepted',
      });
    }
    expect(decided).toEqual({ ok: true });
    const locked = await moderator.send('scan:lock', {
      commandId: cmd(),
      scanId: scan2,
      rejectUndecided: true,
    });
    expect(locked).toMatchObject({ ok: true, version: 1 });
    await until(() => reader.locked.length === 1, 5000, 'scan:locked');
    expect(await moderator.send('vote:open', { commandId: cmd(), scanId: scan2, target })).toMatchObject({
      ok: false,
      error: { code: 'locked' },
    });
    expect(await moderator.send('scan:lock', { commandId: cmd(), scanId: scan2 })).toMatchObject({
      ok: false,
      error: { code: 'already_locked' },
    });
    expect(
      await moderator.send('scan:unlock', { commandId: cmd(), scanId: scan2, reason: 'wrong lung' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(
      await admin.send('scan:unlock', { commandId: cmd(), scanId: scan2, reason: 'wrong lung' }),
    ).toMatchObject({
      ok: true,
      version: 1,
    });
    await until(() => reader.unlocked.length === 1, 5000, 'scan:unlocked');
    const audit = await new Api(server.url, panel.admin.token).call(
      'GET',
      `/api/sessions/${panel.sessionId}/scans/${scan2}/audit`,
    );
    const kinds = (audit.body.entries as Array<{ kind: string }>).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['decision', 'lock', 'unlock', 'vote-void']));
  });
});
