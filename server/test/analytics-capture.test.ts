import {
  ANALYTICS_CAPTURE_EVENT,
  ANALYTICS_CSV_COLUMNS,
  type AnalyticsCaptureInput,
  type AnalyticsResponse,
} from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { PG_URL, type Panel, createPanel, pgSchemaName, startTestServer } from './helpers/test-server.js';
import { LiveClient, cmd } from './realtime/live-client.js';

const BACKENDS = [
  { name: 'sqlite', env: (): Record<string, string> => ({}) },
  {
    name: 'postgres',
    env: (): Record<string, string> => ({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: pgSchemaName() }),
  },
];

const view = { windowCenter: 1200, windowWidth: 2400, preset: 'lung', zoom: 1.5, invert: false };

/**
 * R-ANALYTICS-1..5 end to end: real socket.io clients against a real server on SQLite and on
 * PostgreSQL. Every refusal is checked to have stored nothing by reading the analytics back.
 */
for (const backend of BACKENDS) {
  describe(`reading analytics capture on ${backend.name}`, () => {
    let server: RunningServer;
    let panel: Panel;
    const open: LiveClient[] = [];
    const socket = async (token: string) => {
      const client = await LiveClient.open(server.url, { token, sessionId: panel.sessionId });
      open.push(client);
      return client;
    };
    // Bad cases spread unknown or wrong fields in: typed as the contract, checked by the server.
    const batch = (scanId: string, extra: Record<string, unknown> = {}): AnalyticsCaptureInput => {
      const now = Date.now();
      return {
        batchId: cmd(),
        sentAt: now,
        scans: [
          {
            scanId,
            activeMs: 4000,
            openedAt: now - 9000,
            tools: { draw: 1, wl: 2 },
            findingViews: [{ findingId: 'f-1', action: 'created', at: now - 3000, view }],
            ...extra,
          },
        ],
      } as AnalyticsCaptureInput;
    };
    const analytics = async (token: string, query = '') =>
      panel.api.as(token).call('GET', `/api/sessions/${panel.sessionId}/analytics${query}`);
    const rowOf = (body: AnalyticsResponse, readerId: string, scanId: string) =>
      body.rows.find((r) => r.readerId === readerId && r.scanId === scanId);

    beforeAll(async () => {
      server = await startTestServer(backend.env());
      panel = await createPanel(server, {
        readers: 2,
        scans: [
          { rows: 512, columns: 512 },
          { rows: 512, columns: 512 },
        ],
      });
    });
    afterAll(async () => {
      for (const c of open) c.close();
      await server.close();
    });

    it('R-ANALYTICS-3/4: a reader stores their batch durably, once (a retry with the same id adds nothing)', async () => {
      const reader = await socket(panel.readers[0]!.token);
      const first = batch(panel.scanIds[0]!);
      expect(await reader.send(ANALYTICS_CAPTURE_EVENT, first)).toEqual({ ok: true, stored: true });
      expect(await reader.send(ANALYTICS_CAPTURE_EVENT, first)).toEqual({ ok: true, stored: false });
      const res = await analytics(panel.moderator.token);
      expect(res.status).toBe(200);
      const row = rowOf(res.body as AnalyticsResponse, panel.readers[0]!.id, panel.scanIds[0]!);
      expect(row).toMatchObject({
        activeMs: 4000,
        toolUses: 3,
        tools: 'draw=1;wl=2',
        timeToFirstFindingMs: 6000,
      });
    });

    it('R-ANALYTICS-1: refused and stored nothing: malformed (validation_failed), oversized (payload_too_large), another reader’s id in the payload (validation_failed), unknown scan (not_found), times out of range (validation_failed), not a reader (forbidden)', async () => {
      const victim = panel.readers[1]!;
      const cases: Array<{ token: string; payload: unknown; code: string }> = [
        {
          token: victim.token,
          payload: { ...batch(panel.scanIds[0]!), batchId: 'x' },
          code: 'validation_failed',
        },
        {
          token: victim.token,
          payload: batch(panel.scanIds[0]!, { activeMs: -5 }),
          code: 'validation_failed',
        },
        { token: victim.token, payload: 'not an object', code: 'validation_failed' },
        {
          token: victim.token,
          payload: batch(panel.scanIds[0]!, { tools: { draw: 1, padding: 'x'.repeat(20_000) } }),
          code: 'payload_too_large',
        },
        {
          token: victim.token,
          payload: { ...batch(panel.scanIds[0]!), readerId: panel.readers[0]!.id },
          code: 'validation_failed',
        },
        {
          token: victim.token,
          payload: batch(panel.scanIds[0]!, { userId: panel.readers[0]!.id }),
          code: 'validation_failed',
        },
        { token: victim.token, payload: batch('no-such-scan'), code: 'not_found' },
        {
          token: victim.token,
          payload: batch(panel.scanIds[0]!, { openedAt: 1000 }),
          code: 'validation_failed',
        },
        { token: panel.moderator.token, payload: batch(panel.scanIds[0]!), code: 'forbidden' },
      ];
      for (const c of cases) {
        // A fresh socket each: these are refusals of the payload, not of the rate.
        const client = await socket(c.token);
        const ack = (await client.raw(ANALYTICS_CAPTURE_EVENT, c.payload)) as {
          ok: boolean;
          error?: { code: string };
        };
        expect({ payload: JSON.stringify(c.payload).slice(0, 80), code: ack.error?.code }).toEqual({
          payload: JSON.stringify(c.payload).slice(0, 80),
          code: c.code,
        });
      }
      const body = (await analytics(panel.moderator.token)).body as AnalyticsResponse;
      for (const scanId of panel.scanIds) {
        expect(rowOf(body, victim.id, scanId)).toMatchObject({
          activeMs: 0,
          toolUses: 0,
          timeToFirstFindingMs: null,
        });
      }
      expect(rowOf(body, panel.readers[0]!.id, panel.scanIds[0]!)?.activeMs).toBe(4000);
      expect(body.rows.some((r) => r.readerId === panel.moderator.id)).toBe(false);
    });

    it('R-ANALYTICS-1: too frequent: after a burst of 3 the socket is refused rate_limited and nothing more is stored', async () => {
      const reader = await socket(panel.readers[0]!.token);
      const acks = [];
      for (let i = 0; i < 4; i++)
        acks.push(await reader.send(ANALYTICS_CAPTURE_EVENT, batch(panel.scanIds[1]!)));
      expect(acks.slice(0, 3)).toEqual([
        { ok: true, stored: true },
        { ok: true, stored: true },
        { ok: true, stored: true },
      ]);
      expect(acks[3]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      const body = (await analytics(panel.moderator.token)).body as AnalyticsResponse;
      expect(rowOf(body, panel.readers[0]!.id, panel.scanIds[1]!)?.activeMs).toBe(12_000);
    });

    it('R-ANALYTICS-5: the moderator and admins see every reader, a reader only their own rows, others 403', async () => {
      const all = (await analytics(panel.admin.token)).body as AnalyticsResponse;
      expect(all.session.scope).toBe('all');
      expect(all.rows).toHaveLength(4);
      const own = await analytics(panel.readers[1]!.token);
      expect(own.status).toBe(200);
      const ownBody = own.body as AnalyticsResponse;
      expect(ownBody.session.scope).toBe('own');
      expect(new Set(ownBody.rows.map((r) => r.readerId))).toEqual(new Set([panel.readers[1]!.id]));
      expect(ownBody.readers.map((r) => r.readerId)).toEqual([panel.readers[1]!.id]);
      const outsider = await analytics(panel.outsider.token);
      expect(outsider.status).toBe(403);
      expect(outsider.body).toMatchObject({ error: { code: 'forbidden' } });
      expect((await analytics(panel.moderator.token, '?format=xml')).status).toBe(400);
    });

    it('R-ANALYTICS-9: ?format=csv is one header line and one line per reader x scan with the JSON’s numbers', async () => {
      const res = await fetch(`${server.url}/api/sessions/${panel.sessionId}/analytics?format=csv`, {
        headers: { authorization: `Bearer ${panel.moderator.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      const lines = (await res.text()).trimEnd().split('\n');
      expect(lines[0]).toBe(ANALYTICS_CSV_COLUMNS.join(','));
      expect(lines).toHaveLength(5);
      const json = (await analytics(panel.moderator.token)).body as AnalyticsResponse;
      const r0 = json.rows[0]!;
      expect(lines[1]!.split(',').slice(0, 5)).toEqual([
        r0.sessionId,
        r0.scanId,
        r0.readerId,
        r0.username,
        String(r0.activeMs),
      ]);
    });

    it('R-ANALYTICS-3: views of one finding repeated within a batch keep the latest; a later batch with an older view does not overwrite', async () => {
      const reader = await socket(panel.readers[1]!.token);
      const now = Date.now();
      const at = (msAgo: number, windowCenter: number) => ({
        at: now - msAgo,
        view: { ...view, windowCenter },
      });
      const views = [
        { findingId: 'f-dup', action: 'changed', ...at(3000, 100) },
        { findingId: 'f-dup', action: 'changed', ...at(1000, 300) },
        { findingId: 'f-dup', action: 'changed', ...at(2000, 200) },
        { findingId: 'f-dup', action: 'created', ...at(4000, 50) },
        { findingId: 'f-other', action: 'changed', ...at(1500, 700) },
      ];
      const first = batch(panel.scanIds[1]!, { findingViews: views });
      expect(await reader.send(ANALYTICS_CAPTURE_EVENT, first)).toEqual({ ok: true, stored: true });
      const older = batch(panel.scanIds[1]!, {
        findingViews: [{ findingId: 'f-dup', action: 'changed', ...at(2500, 999) }],
      });
      expect(await reader.send(ANALYTICS_CAPTURE_EVENT, older)).toEqual({ ok: true, stored: true });
      const [stored] = await server.stores.analytics.captures(panel.sessionId, panel.readers[1]!.id);
      const centres = Object.fromEntries(
        (stored?.views ?? []).map((v) => [`${v.findingId}/${v.action}`, v.view.windowCenter]),
      );
      expect(centres).toEqual({ 'f-dup/changed': 300, 'f-dup/created': 50, 'f-other/changed': 700 });
    });
  });
}
