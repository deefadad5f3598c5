import { createHash } from 'node:crypto';
import {
  CocoDatasetSchema,
  ExportManifestSchema,
  LOCAL_LABELS,
  consensusContent,
  parseAnnotationsCsv,
  parseConsensusRecord,
  parseImageLabelsCsv,
  readingsFromVindrCsv,
} from '@cxr/shared';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { draw, get, lock } from './export-fixtures.js';
import { type Panel, createPanel, startTestServer } from './helpers/test-server.js';

/**
 * Exports over real HTTP: a panel draws through y-websocket, the moderator locks two of three
 * scans, and the VinDr CSVs, COCO and manifest come back as DOMAIN.md lays them out, each with
 * the consensus hash; unlocked scans are refused or skipped; outsiders are refused.
 */
let server: RunningServer;
let panel: Panel;
let sid: string;
const locked: Record<string, { sha256: string; version: number }> = {};
const base = () => `/api/sessions/${sid}/export`;

beforeAll(async () => {
  server = await startTestServer();
  panel = await createPanel(server, {
    readers: 2,
    scans: [
      { rows: 2000, columns: 1800 },
      { rows: 1000, columns: 800 },
      { rows: 500, columns: 500 },
    ],
  });
  sid = panel.sessionId;
  const [withBoxes, normal, open] = panel.scanIds as [string, string, string];
  await draw(server, sid, withBoxes, panel.readers[0]!, {
    findings: [
      { id: 'f1', labels: ['Lung Opacity', 'Infiltration'], box: [900.96, 587.81, 1205.36, 888.71] },
      { id: 'f2', labels: ['Cardiomegaly'], box: [691, 1375, 1653, 1831] },
    ],
    globals: ['Pneumonia'],
  });
  await draw(server, sid, normal, panel.readers[1]!, { findings: [], globals: ['No finding'] });
  await draw(server, sid, open, panel.readers[1]!, {
    findings: [{ id: 'x', labels: ['ILD'], box: [1, 1, 50, 50] }],
    globals: [],
  });
});
afterAll(async () => {
  await server.close();
});

describe('exports before any lock', () => {
  it('R-EXPORT-8: every export of an unlocked session or scan is 409 not_locked', async () => {
    const token = panel.moderator.token;
    for (const path of [
      `${base()}/annotations_test.csv`,
      `${base()}/image_labels_test.csv`,
      `${base()}/coco.json`,
      `${base()}/coco.json?scan=${panel.scanIds[0]}`,
      `/api/sessions/${sid}/scans/${panel.scanIds[0]}/export/sr.dcm`,
    ]) {
      const res = await get(server, token, path);
      expect(res.status, path).toBe(409);
      expect(JSON.parse(res.text).error.code, path).toBe('not_locked');
    }
    const manifest = ExportManifestSchema.parse(
      JSON.parse((await get(server, token, `${base()}/manifest.json`)).text),
    );
    expect(manifest.scans.map((s) => s.status)).toEqual(['unlocked', 'unlocked', 'unlocked']);
  });
});

describe('exports of locked scans', () => {
  beforeAll(async () => {
    for (const scan of panel.scanIds.slice(0, 2)) {
      const { sha256, version } = await lock(panel, sid, scan);
      locked[scan] = { sha256, version };
    }
  });

  it('R-EXPORT-9: outsiders get 403, no token 401, unknown session 404; readers and admins read', async () => {
    const paths = [
      `${base()}/annotations_test.csv`,
      `${base()}/image_labels_test.csv`,
      `${base()}/coco.json`,
      `${base()}/manifest.json`,
      `/api/sessions/${sid}/scans/${panel.scanIds[0]}/export/sr.dcm`,
    ];
    for (const path of paths) {
      expect((await get(server, panel.outsider.token, path)).status, path).toBe(403);
      expect((await get(server, undefined, path)).status, path).toBe(401);
    }
    for (const path of paths.slice(0, 4)) {
      expect((await get(server, panel.readers[1]!.token, path)).status, path).toBe(200);
      expect((await get(server, panel.admin.token, path)).status, path).toBe(200);
    }
    const unknown = await get(server, panel.admin.token, '/api/sessions/nope/export/coco.json');
    expect(unknown.status).toBe(404);
  });

  it('R-EXPORT-2: annotations_test.csv is VinDr’s layout: two rows for the two-label finding, No finding row, unlocked scan skipped', async () => {
    const res = await get(server, panel.readers[0]!.token, `${base()}/annotations_test.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [a, b] = panel.scanIds;
    expect(res.text).toBe(
      [
        'image_id,class_name,x_min,y_min,x_max,y_max',
        `${a},Infiltration,900.96,587.81,1205.36,888.71`,
        `${a},Lung Opacity,900.96,587.81,1205.36,888.71`,
        `${a},Cardiomegaly,691,1375,1653,1831`,
        `${b},No finding,,,,`,
        '',
      ].join('\n'),
    );
    expect(res.headers.get('x-consensus-unlocked')).toBe('1');
  });

  it('R-EXPORT-2: image_labels_test.csv: one row per locked image, test spelling, No finding last', async () => {
    const res = await get(server, panel.readers[0]!.token, `${base()}/image_labels_test.csv`);
    const lines = res.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]!.endsWith(',COPD,Lung tumor,Pneumonia,Tuberculosis,Other disease,No finding')).toBe(true);
    const on = (line: string) => {
      const cells = line.split(',');
      const names = lines[0]!.split(',');
      return names.filter((_, i) => i > 0 && cells[i] === '1');
    };
    expect(on(lines[1]!)).toEqual(['Cardiomegaly', 'Infiltration', 'Lung Opacity', 'Pneumonia']);
    expect(on(lines[2]!)).toEqual(['No finding']);
  });

  it('R-EXPORT-6: CSV answers carry the manifest digest; the manifest lists each scan’s version and sha256 and the unlocked one', async () => {
    const csv = await get(server, panel.moderator.token, `${base()}/annotations_test.csv`);
    const manifestRes = await get(server, panel.moderator.token, `${base()}/manifest.json`);
    const manifest = ExportManifestSchema.parse(JSON.parse(manifestRes.text));
    const [a, b, c] = panel.scanIds as [string, string, string];
    expect(manifest.scans).toEqual([
      expect.objectContaining({ scanId: a, position: 0, status: 'locked', ...locked[a] }),
      expect.objectContaining({ scanId: b, position: 1, status: 'locked', ...locked[b] }),
      { scanId: c, position: 2, status: 'unlocked' },
    ]);
    const digest = createHash('sha256').update(canonicalize(manifest.scans)!).digest('hex');
    expect(manifest.digest).toBe(digest);
    expect(csv.headers.get('x-consensus-sha256')).toBe(digest);
    expect(manifestRes.headers.get('x-consensus-sha256')).toBe(digest);
  });

  it('R-EXPORT-6: one scan (?scan=) carries that record’s sha256 and version', async () => {
    const a = panel.scanIds[0]!;
    const res = await get(server, panel.moderator.token, `${base()}/annotations_test.csv?scan=${a}`);
    expect(res.headers.get('x-consensus-sha256')).toBe(locked[a]!.sha256);
    expect(res.headers.get('x-consensus-version')).toBe('1');
    expect(res.text.trimEnd().split('\n')).toHaveLength(4);
    const open = await get(
      server,
      panel.moderator.token,
      `${base()}/annotations_test.csv?scan=${panel.scanIds[2]}`,
    );
    expect(open.status).toBe(409);
    const stranger = await get(server, panel.moderator.token, `${base()}/annotations_test.csv?scan=other`);
    expect(stranger.status).toBe(404);
    const extra = await get(server, panel.moderator.token, `${base()}/coco.json?bogus=1`);
    expect(extra.status).toBe(400);
  });

  it('R-EXPORT-2: round trip over HTTP: the two CSVs parse back to each record’s consensus content', async () => {
    const token = panel.moderator.token;
    const annotations = parseAnnotationsCsv(
      (await get(server, token, `${base()}/annotations_test.csv`)).text,
    );
    const labels = parseImageLabelsCsv((await get(server, token, `${base()}/image_labels_test.csv`)).text);
    if (!annotations.ok || !labels.ok) throw new Error('export does not parse');
    const joined = readingsFromVindrCsv(annotations.value, labels.value);
    if (!joined.ok) throw new Error(JSON.stringify(joined.error));
    const expected = [];
    for (const scan of panel.scanIds.slice(0, 2)) {
      const res = await panel.api.as(token).call('GET', `/api/sessions/${sid}/scans/${scan}/consensus`);
      expected.push(consensusContent(parseConsensusRecord(JSON.stringify(res.body.record))));
    }
    expect(joined.value.readings).toEqual(expected);
  });

  it('R-EXPORT-4: coco.json: 22 categories, images of locked scans, one annotation per (box, label), hashes in info', async () => {
    const res = await get(server, panel.moderator.token, `${base()}/coco.json`);
    const coco = CocoDatasetSchema.parse(JSON.parse(res.text));
    const [a, b] = panel.scanIds as [string, string];
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual(LOCAL_LABELS.map((l, i) => [i + 1, l]));
    expect(coco.images).toEqual([
      { id: 1, file_name: `${a}.dicom`, width: 1800, height: 2000, vindr_image_id: a },
      { id: 2, file_name: `${b}.dicom`, width: 800, height: 1000, vindr_image_id: b },
    ]);
    expect(
      coco.annotations.map((x) => [x.image_id, coco.categories[x.category_id - 1]!.name, x.bbox]),
    ).toEqual([
      [1, 'Infiltration', [900.96, 587.81, 1205.36 - 900.96, 888.71 - 587.81]],
      [1, 'Lung Opacity', [900.96, 587.81, 1205.36 - 900.96, 888.71 - 587.81]],
      [1, 'Cardiomegaly', [691, 1375, 962, 456]],
    ]);
    expect(coco.annotations[2]!.area).toBe(962 * 456);
    expect(coco.info.consensus).toEqual([
      { image_id: a, ...locked[a] },
      { image_id: b, ...locked[b] },
    ]);
  });

  it('R-EXPORT-7: an SR of a scan without a DICOM file is 422 unprocessable', async () => {
    const res = await get(
      server,
      panel.moderator.token,
      `/api/sessions/${sid}/scans/${panel.scanIds[0]}/export/sr.dcm`,
    );
    expect(res.status).toBe(422);
    expect(JSON.parse(res.text).error.code).toBe('unprocessable');
  });
});
