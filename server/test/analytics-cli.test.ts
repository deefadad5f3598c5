import fs from 'node:fs';
import path from 'node:path';
import { ANALYTICS_CAPTURE_EVENT } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { runExportCli } from './helpers/export-cli.js';
import { type Panel, createPanel, startTestServer, tempDir } from './helpers/test-server.js';
import { LiveClient, cmd } from './realtime/live-client.js';

describe('cxr export --analytics (R-ANALYTICS-9)', () => {
  const dataDir = tempDir('cxr-analytics-data-');
  let server: RunningServer;
  let panel: Panel;

  beforeAll(async () => {
    server = await startTestServer({ DATA_DIR: dataDir });
    panel = await createPanel(server, { readers: 2, scans: [{ rows: 300, columns: 200 }] });
    const reader = await LiveClient.open(server.url, {
      token: panel.readers[0]!.token,
      sessionId: panel.sessionId,
    });
    const ack = await reader.send(ANALYTICS_CAPTURE_EVENT, {
      batchId: cmd(),
      sentAt: Date.now(),
      scans: [{ scanId: panel.scanIds[0]!, activeMs: 7000, tools: { pan: 4 } }],
    });
    reader.close();
    expect(ack).toEqual({ ok: true, stored: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('R-ANALYTICS-9: writes the same CSV as the route, and the JSON, for every reader', async () => {
    const out = tempDir('cxr-analytics-out-');
    const run = runExportCli(dataDir, ['--session', panel.sessionId, '--out', out, '--analytics']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const res = await fetch(`${server.url}/api/sessions/${panel.sessionId}/analytics?format=csv`, {
      headers: { authorization: `Bearer ${panel.moderator.token}` },
    });
    const csv = fs.readFileSync(path.join(out, 'analytics.csv'), 'utf8');
    expect(csv).toBe(await res.text());
    expect(csv.trimEnd().split('\n')).toHaveLength(3);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'analytics.json'), 'utf8'));
    expect(json.rows[0]).toMatchObject({ readerId: panel.readers[0]!.id, activeMs: 7000, tools: 'pan=4' });
  });

  it('an unknown session exits 1 and says so', () => {
    const run = runExportCli(dataDir, ['--session', 'nope', '--out', tempDir(), '--analytics']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no session nope');
  });
});
