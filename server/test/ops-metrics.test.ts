import { randomUUID } from 'node:crypto';
import { type Finding, putFinding } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { Api, type Panel, createPanel, startTestServer } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';
import { LiveClient, TestRedis, cmd } from './realtime/live-client.js';

/** One sample's value from Prometheus text, e.g. `metric(text, 'cxr_locks_total', {outcome: 'locked'})`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[4]);
  }
  return undefined;
}

async function scrape(url: string, token?: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const finding = (id: string, by: string): Finding => ({
  id,
  labels: ['Atelectasis'],
  box: { x_min: 10, y_min: 10, x_max: 50, y_max: 60 },
  createdBy: by,
  updatedBy: by,
  updatedAt: 1,
});

describe('ops: metrics', () => {
  let server: RunningServer;
  let other: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({ ROOM_IDLE_UNLOAD_MS: '60000' });
    other = await startTestServer();
    panel = await createPanel(server, { readers: 2 });
  });
  afterAll(async () => {
    await server?.close();
    await other?.close();
  });

  it('R-OPS-1: /metrics counts connections, rooms, accepted and refused updates, latencies, votes, locks and HTTP requests', async () => {
    const scanId = panel.scanIds[0]!;
    const reader = panel.readers[0]!;
    const writer = new TestClient(server.url, panel.sessionId, scanId, reader.token);
    const watcher = new TestClient(server.url, panel.sessionId, scanId, panel.readers[1]!.token);
    const live = await LiveClient.open(server.url, {
      token: panel.moderator.token,
      sessionId: panel.sessionId,
    });
    try {
      await until(() => writer.synced && watcher.synced, 5000, 'sync');
      putFinding(writer.doc, finding('f1', reader.id));
      await until(() => watcher.doc.getMap('findings').has('f1'), 5000, 'broadcast');

      let text = (await scrape(server.url)).text;
      expect(metric(text, 'cxr_open_connections', { kind: 'yjs' })).toBe(2);
      expect(metric(text, 'cxr_open_connections', { kind: 'socketio' })).toBe(1);
      expect(metric(text, 'cxr_rooms_loaded')).toBe(1);
      expect(metric(text, 'cxr_updates_accepted_total')).toBeGreaterThanOrEqual(1);
      expect(metric(text, 'cxr_persist_duration_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(metric(text, 'cxr_broadcast_latency_seconds_count')).toBeGreaterThanOrEqual(1);

      // A refused write (meta is server-only) is counted by its close reason.
      watcher.doc.getMap('meta').set('locked', true);
      expect((await watcher.closedByServer()).code).toBe(4403);

      const opened = await live.send('vote:open', {
        commandId: cmd(),
        scanId,
        target: { kind: 'finding', id: 'f1' },
      });
      expect(opened.ok).toBe(true);
      const missing = await live.send('vote:open', {
        commandId: cmd(),
        scanId,
        target: { kind: 'finding', id: 'absent' },
      });
      expect(missing.ok).toBe(false);

      const api = new Api(server.url, panel.moderator.token);
      expect((await api.call('POST', `/api/sessions/${panel.sessionId}/scans/${scanId}/lock`)).status).toBe(
        200,
      );
      expect((await api.call('POST', `/api/sessions/${panel.sessionId}/scans/${scanId}/lock`)).status).toBe(
        409,
      );

      const scraped = await scrape(server.url);
      expect(scraped.status).toBe(200);
      expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
      text = scraped.text;
      expect(metric(text, 'cxr_updates_refused_total', { reason: 'FORBIDDEN' })).toBe(1);
      expect(metric(text, 'cxr_votes_total', { action: 'open', outcome: 'ok' })).toBe(1);
      expect(metric(text, 'cxr_votes_total', { action: 'open', outcome: 'not_found' })).toBe(1);
      expect(metric(text, 'cxr_locks_total', { outcome: 'locked' })).toBe(1);
      expect(metric(text, 'cxr_locks_total', { outcome: 'already_locked' })).toBe(1);
      expect(
        metric(text, 'cxr_http_requests_total', {
          method: 'POST',
          route: '/api/sessions/:sessionId/scans/:scanId/lock',
          status: '409',
        }),
      ).toBe(1);
      expect(metric(text, 'cxr_process_resident_memory_bytes')).toBeGreaterThan(0);
      for (const name of ['cxr_dicom_imports_total', 'cxr_redis_errors_total', 'cxr_database_errors_total']) {
        expect(text).toContain(`# TYPE ${name} counter`);
      }
    } finally {
      writer.destroy();
      watcher.destroy();
      live.close();
    }
  });

  it('R-OPS-1: each server instance has its own registry (several servers in one process)', async () => {
    const text = (await scrape(other.url)).text;
    expect(metric(text, 'cxr_updates_accepted_total')).toBe(0);
    expect(metric(text, 'cxr_locks_total', { outcome: 'locked' })).toBeUndefined();
  });

  it('R-OPS-2: /api/ready answers 200 with the database reachable, 503 naming it when it is not', async () => {
    const ready = await new Api(other.url).call('GET', '/api/ready');
    expect(ready).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok' } } });
    const broken = await startTestServer();
    try {
      // Closing the SQLite handle under the server is the closest thing to a lost database.
      broken.stores.db.sqlite?.close();
      const res = await new Api(broken.url).call('GET', '/api/ready');
      expect(res.status).toBe(503);
      expect(res.body.error?.code).toBe('unavailable');
      expect(res.body.error?.message).toContain('database');
      expect(
        metric((await scrape(broken.url)).text, 'cxr_database_errors_total', { operation: 'readiness' }),
      ).toBe(1);
      expect((await new Api(broken.url).call('GET', '/api/health')).status).toBe(200);
    } finally {
      await broken.close().catch(() => undefined);
    }
  });

  it('R-OPS-2: with REDIS_URL, /api/ready checks Redis too and answers 503 naming it while it is down', async () => {
    const redis = await TestRedis.start();
    const withRedis = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `t${randomUUID().slice(0, 8)}:`,
    });
    try {
      const api = new Api(withRedis.url);
      expect(await api.call('GET', '/api/ready')).toEqual({
        status: 200,
        body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } },
      });
      await redis.stop();
      const down = await api.call('GET', '/api/ready');
      expect(down.status).toBe(503);
      expect(Reflect.get(down.body.error ?? {}, 'details')).toEqual({
        checks: { database: 'ok', redis: 'unreachable' },
      });
      await expect
        .poll(async () =>
          metric((await scrape(withRedis.url)).text, 'cxr_redis_errors_total', { client: 'command' }),
        )
        .toBeGreaterThanOrEqual(1);
    } finally {
      await withRedis.close();
      await redis.stop();
    }
  });

  it('R-OPS-3: with METRICS_TOKEN, /metrics refuses scrapes without it (tried: none, wrong, right)', async () => {
    const token = 'scrape-token-0123456789';
    const guarded = await startTestServer({ METRICS_TOKEN: token });
    try {
      expect((await scrape(guarded.url)).status).toBe(401);
      expect((await scrape(guarded.url, 'scrape-token-wrong-00000')).status).toBe(401);
      const ok = await scrape(guarded.url, token);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('cxr_open_connections');
    } finally {
      await guarded.close();
    }
  });
});
