import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodePixels } from '../../src/dicom/decode.js';
import { fileStemId } from '../../src/dicom/image-id.js';
import { imageIdFor, inspectDicom } from '../../src/dicom/inspect.js';
import { makeSyntheticChest } from '../../src/dicom/synthetic.js';
import { renderThumbnail } from '../../src/dicom/thumbnail.js';

describe('image id (VinDr-CXR)', () => {
  it('is the MD5 hex of the SOP Instance UID (value from md5sum)', () => {
    const { bytes } = makeSyntheticChest({ rows: 8, columns: 8, sopInstanceUid: '1.2.840.113619.2.55.3.1' });
    const r = imageIdFor(bytes, 'whatever.dcm');
    expect(r.ok && r.value).toBe('462e2d553d418563337f77ed146ab114');
    expect(inspectDicom(bytes).ok && inspectDicom(bytes, { fileName: 'x' })).toMatchObject({
      value: { imageId: '462e2d553d418563337f77ed146ab114', hasSopInstanceUid: true },
    });
  });
  it('without a SOP Instance UID keeps the file name’s stem', () => {
    const { bytes } = makeSyntheticChest({ rows: 8, columns: 8, sopInstanceUid: null });
    const r = imageIdFor(bytes, 'train/000434271f63a181e2db0b4b06cbc2e6.dicom');
    expect(r.ok && r.value).toBe('000434271f63a181e2db0b4b06cbc2e6');
    expect(inspectDicom(bytes).ok && inspectDicom(bytes)).toMatchObject({
      value: { hasSopInstanceUid: false },
    });
  });
  it('hashes stems that are not URL-safe', () => {
    expect(fileStemId('C:\\scans\\a b.dcm')).toMatch(/^[0-9a-f]{32}$/);
    expect(fileStemId('.dcm')).toMatch(/^[0-9a-f]{32}$/);
    expect(fileStemId('abc')).toBe('abc');
  });
});

describe('renderThumbnail', () => {
  it('fits maxSide, is greyscale, and shows MONOCHROME1 lungs dark like MONOCHROME2', async () => {
    const means: number[] = [];
    for (const photometric of ['MONOCHROME1', 'MONOCHROME2'] as const) {
      const { bytes } = makeSyntheticChest({ rows: 300, columns: 280, photometric, seed: 5 });
      const r = await renderThumbnail(bytes, { maxSide: 64 });
      if (!r.ok) throw new Error(r.error.message);
      const png = PNG.sync.read(r.value);
      expect([png.width, png.height]).toEqual([60, 64]);
      // Centre of the right lung (30% across, 45% down) vs the mediastinum (50%, 60%).
      const at = (u: number, v: number) =>
        png.data[(Math.floor(v * png.height) * png.width + Math.floor(u * png.width)) * 4]!;
      expect(at(0.3, 0.45)).toBeLessThan(at(0.5, 0.6));
      means.push(at(0.3, 0.45));
    }
    expect(Math.abs(means[0]! - means[1]!)).toBeLessThan(8);
  });
  it('accepts already decoded pixels and relative presets', async () => {
    const decoded = await decodePixels(makeSyntheticChest({ rows: 40, columns: 40 }).bytes);
    if (!decoded.ok) throw new Error(decoded.error.message);
    for (const voi of ['file', 'auto', 'lung', 'mediastinum', 'bone'] as const) {
      const r = await renderThumbnail(decoded.value, { voi });
      expect(r.ok && PNG.sync.read(r.value).width).toBe(40);
    }
  });
  it('refuses a broken file with its error', async () => {
    const r = await renderThumbnail(new Uint8Array(0));
    expect(r.ok ? 'ok' : r.error.code).toBe('dicom_empty');
  });
});
