import fs from 'node:fs';
import path from 'node:path';
import {
  autoWindow,
  type HalvedLevel,
  halve,
  PREVIEW_STEP,
  storedHistogram,
  storedRange,
  type StoredPixelArray,
} from '@cxr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePixels } from '../src/dicom/decode.js';
import { inspectDicom } from '../src/dicom/inspect.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { RLE_LOSSLESS } from '../src/dicom/transfer-syntax.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import type { RunningServer } from '../src/main.js';
import { Api, createPanel, type Panel, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * The first-paint preview (R-API-6): a quarter-resolution DICOM file whose pixels are exactly
 * two rounds of 2 x 2 averaging of the stored file's (the viewer's own pyramid level at step
 * 4), served to the same people as the file. Bad requests tried: an outsider, no token, an
 * unknown scan, a scan too small to need a preview, a stale ETag.
 */
let server: RunningServer;
const dataDir = tempDir();
let panel: Panel;
const scans: Record<string, { id: string; sha256: string; bytes: Uint8Array }> = {};

beforeAll(async () => {
  server = await startTestServer({ DATA_DIR: dataDir });
  panel = await createPanel(server, { readers: 1 });
  const files = {
    // No window in the file: the preview carries the one the viewer would compute.
    native: makeSyntheticChestDicom({ rows: 600, columns: 522, seed: 4, window: null }),
    rle: makeSyntheticChestDicom({
      rows: 520,
      columns: 600,
      seed: 5,
      transferSyntax: RLE_LOSSLESS,
      photometric: 'MONOCHROME1',
    }),
    signed: makeSyntheticChestDicom({ rows: 300, columns: 260, seed: 6, pixelRepresentation: 1 }),
    small: makeSyntheticChestDicom({ rows: 128, columns: 120, seed: 7 }),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const res = await uploadDicom(server, panel.admin.token, bytes);
    expect(res.status).toBe(201);
    scans[name] = { id: String(res.body.id), sha256: String(res.body.sha256), bytes };
  }
  const session = await new Api(server.url, panel.admin.token).call('POST', '/api/sessions', {
    name: 'preview panel',
    moderatorId: panel.moderator.id,
    readerIds: panel.readers.map((r) => r.id),
    scanIds: Object.values(scans).map((s) => s.id),
  });
  expect(session.status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

/** What the viewer's pyramid holds at step 4: stored values as indices, halved twice. */
function expectedLevel(data: StoredPixelArray, columns: number, rows: number, min: number) {
  let level: HalvedLevel = { width: columns, height: rows, data: Uint16Array.from(data, (v) => v - min) };
  for (let step = 1; step < PREVIEW_STEP; step *= 2) level = halve(level.data, level.width, level.height);
  return level;
}

describe('GET /api/scans/:id/preview', () => {
  for (const name of ['native', 'rle', 'signed']) {
    it(`R-API-6: ${name}: the stored file's pixels at step ${PREVIEW_STEP}, same attributes`, async () => {
      const scan = scans[name]!;
      const res = await getBytes(server, `/api/scans/${scan.id}/preview`, panel.readers[0]!.token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/dicom');
      const stored = await getBytes(server, `/api/scans/${scan.id}/dicom`, panel.admin.token);
      const full = await decodePixels(stored.bytes);
      const preview = await decodePixels(res.bytes);
      if (!full.ok || !preview.ok) throw new Error('decode failed');
      const { min } = storedRange(full.value);
      const expected = expectedLevel(full.value.data, full.value.columns, full.value.rows, min);
      expect([preview.value.columns, preview.value.rows]).toEqual([expected.width, expected.height]);
      expect(Array.from(preview.value.data, (v) => v - min)).toEqual(Array.from(expected.data));
      for (const key of ['bitsStored', 'pixelRepresentation', 'photometric'] as const) {
        expect(preview.value[key]).toBe(full.value[key]);
      }
      expect(preview.value.info.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      expect(preview.value.info.pixelSpacingMm).toEqual(full.value.info.pixelSpacingMm);
    });
  }

  it('R-API-6: a file without a window gets the full image’s auto window; one with a window keeps it', async () => {
    const native = await getBytes(server, `/api/scans/${scans.native!.id}/preview`, panel.admin.token);
    const full = await decodePixels(scans.native!.bytes);
    if (!full.ok) throw new Error('decode failed');
    const auto = autoWindow(storedHistogram(full.value.data, full.value), full.value.info);
    const info = inspectDicom(native.bytes);
    if (!info.ok) throw new Error('inspect failed');
    expect(info.value.windows[0]?.center).toBeCloseTo(auto.center, 3);
    expect(info.value.windows[0]?.width).toBeCloseTo(auto.width, 3);

    const withWindow = inspectDicom(
      (await getBytes(server, `/api/scans/${scans.rle!.id}/preview`, panel.admin.token)).bytes,
    );
    const original = inspectDicom(scans.rle!.bytes);
    if (!withWindow.ok || !original.ok) throw new Error('inspect failed');
    expect(withWindow.value.windows).toEqual(original.value.windows);
  });

  it('R-API-6: cached on disk under the file’s hash, with its own ETag (304 on match)', async () => {
    const { id, sha256 } = scans.native!;
    const url = `/api/scans/${id}/preview`;
    const first = await getBytes(server, url, panel.moderator.token);
    const cached = path.join(dataDir, 'previews', sha256.slice(0, 2), `${sha256.slice(2)}.dcm`);
    expect(fs.existsSync(cached)).toBe(true);
    expect(first.headers.get('etag')).toBe(`"preview-${sha256}"`);
    expect(first.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const etag = first.headers.get('etag') ?? '';
    expect((await getBytes(server, url, panel.moderator.token, { 'if-none-match': etag })).status).toBe(304);
    expect((await getBytes(server, url, panel.moderator.token, { 'if-none-match': '"stale"' })).status).toBe(
      200,
    );
  });

  it('R-API-6: the same people as the file; a scan too small for a preview is 404 with a code', async () => {
    const url = `/api/scans/${scans.native!.id}/preview`;
    expect((await getBytes(server, url, panel.outsider.token)).status).toBe(403);
    expect((await getBytes(server, url, undefined)).status).toBe(401);
    expect((await getBytes(server, '/api/scans/nope/preview', panel.admin.token)).status).toBe(404);
    const small = await getBytes(server, `/api/scans/${scans.small!.id}/preview`, panel.admin.token);
    expect(small.status).toBe(404);
    expect(JSON.parse(Buffer.from(small.bytes).toString('utf8'))).toMatchObject({
      error: { code: 'not_found' },
    });
  });
});
