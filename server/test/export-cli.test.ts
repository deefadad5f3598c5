import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExportManifestSchema } from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import type { RunningServer } from '../src/main.js';
import { draw, get, lock } from './export-fixtures.js';
import { uploadDicom } from './helpers/dicom-ingest.js';
import { runExportCli } from './helpers/export-cli.js';
import { type Panel, createPanel, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * `cxr export` as a real child process on a data directory a server wrote: the same files as
 * the HTTP routes, one SR per locked scan with a DICOM file, and a manifest with every file's
 * SHA-256 and every scan's status.
 */
const dataDir = tempDir('cxr-export-data-');
const outRoot = tempDir('cxr-export-out-');
let server: RunningServer;
let panel: Panel;
let sessionId: string;
let dicomScan: string;
const http: Record<string, string> = {};

const cli = (args: string[]) => runExportCli(dataDir, args);

beforeAll(async () => {
  server = await startTestServer({ DATA_DIR: dataDir });
  panel = await createPanel(server, { readers: 1, scans: [{ rows: 300, columns: 200 }] });
  const upload = await uploadDicom(
    server,
    panel.admin.token,
    makeSyntheticChest({ rows: 64, columns: 60, seed: 9, sopInstanceUid: '2.25.990001' }).bytes,
  );
  dicomScan = String(upload.body.id);
  const [sizeOnly] = panel.scanIds as [string];
  const created = await panel.api.as(panel.admin.token).call('POST', '/api/sessions', {
    name: 'cli export',
    moderatorId: panel.moderator.id,
    readerIds: [panel.readers[0]!.id],
    scanIds: [dicomScan, sizeOnly],
  });
  sessionId = String(created.body.id);
  await draw(server, sessionId, dicomScan, panel.readers[0]!, {
    findings: [{ id: 'n', labels: ['Nodule/Mass'], box: [5, 6, 20.5, 30] }],
    globals: ['Lung tumor'],
  });
  await lock(panel, sessionId, dicomScan);
  for (const name of ['annotations_test.csv', 'image_labels_test.csv']) {
    http[name] = (await get(server, panel.moderator.token, `/api/sessions/${sessionId}/export/${name}`)).text;
  }
  await server.close();
});
afterAll(() => {
  for (const d of [dataDir, outRoot]) fs.rmSync(d, { recursive: true, force: true });
});

describe('cxr export', () => {
  it('R-EXPORT-10: writes the VinDr CSVs (same bytes as the API), COCO, SRs and a manifest with hashes', () => {
    const out = path.join(outRoot, 'all');
    const run = cli(['--session', sessionId, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('exported 1 locked scan(s) of 2');
    const manifest = ExportManifestSchema.parse(
      JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')),
    );
    expect(manifest.scans.map((s) => s.status)).toEqual(['locked', 'unlocked']);
    expect(manifest.files?.map((f) => f.name)).toEqual([
      'annotations_test.csv',
      'image_labels_test.csv',
      'coco.json',
      `sr/${dicomScan}.sr.dcm`,
    ]);
    for (const f of manifest.files ?? []) {
      const bytes = fs.readFileSync(path.join(out, f.name));
      expect(createHash('sha256').update(bytes).digest('hex'), f.name).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
    }
    for (const name of ['annotations_test.csv', 'image_labels_test.csv']) {
      expect(fs.readFileSync(path.join(out, name), 'utf8'), name).toBe(http[name]);
    }
    const coco = JSON.parse(fs.readFileSync(path.join(out, 'coco.json'), 'utf8'));
    expect(coco.info.consensus[0].sha256).toBe(
      manifest.scans[0]!.status === 'locked' && manifest.scans[0]!.sha256,
    );
    const dump = execFileSync('dsrdump', ['+Pl', '+Pc', path.join(out, `sr/${dicomScan}.sr.dcm`)], {
      encoding: 'utf8',
    });
    expect(dump).toContain('Verification Flag   : VERIFIED');
    expect(dump).toContain('=(POLYLINE,5/6,20.5/6,20.5/30,5/30,5/6)');
  });

  it('R-EXPORT-10: --format picks the files; bad formats and unknown sessions fail with a message', () => {
    const out = path.join(outRoot, 'coco-only');
    expect(cli(['--session', sessionId, '--out', out, '--format', 'coco']).code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['coco.json', 'manifest.json']);
    const bad = cli(['--session', sessionId, '--out', out, '--format', 'coco,pdf']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown format pdf');
    const missing = cli(['--session', 'no-such-session', '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot export: session not found');
  });
});
