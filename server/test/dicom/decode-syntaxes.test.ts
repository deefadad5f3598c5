import { afterAll, describe, expect, it } from 'vitest';
import { decodePixels } from '../../src/dicom/decode.js';
import { inspectDicom } from '../../src/dicom/inspect.js';
import { makeSyntheticChest, type SyntheticChestOptions } from '../../src/dicom/synthetic.js';
import { ToolDir } from './fixtures.js';

/**
 * Every accepted transfer syntax decodes to exactly the stored values of the uncompressed
 * original (lossy ones within their declared tolerance). Native and RLE files come from our
 * writer AND from DCMTK; compressed ones only from DCMTK/GDCM, so the encoder is never ours.
 */
const tools = new ToolDir();
afterAll(() => tools.cleanup());

type Case = {
  name: string;
  uid: string;
  make: (original: Uint8Array) => Uint8Array;
  maxError?: number;
  /** dcmcjpls refuses near-lossless on signed pixels ("Unsupported pixel representation"). */
  noSigned?: boolean;
};

const CASES: Case[] = [
  { name: 'explicit VR LE (ours)', uid: '1.2.840.10008.1.2.1', make: (b) => b },
  {
    name: 'implicit VR LE (dcmconv +ti)',
    uid: '1.2.840.10008.1.2',
    make: (b) => tools.convert(b, 'dcmconv', ['+ti']),
  },
  {
    name: 'explicit VR BE (dcmconv +tb)',
    uid: '1.2.840.10008.1.2.2',
    make: (b) => tools.convert(b, 'dcmconv', ['+tb']),
  },
  {
    name: 'deflated (dcmconv +td)',
    uid: '1.2.840.10008.1.2.1.99',
    make: (b) => tools.convert(b, 'dcmconv', ['+td']),
  },
  { name: 'RLE (dcmcrle)', uid: '1.2.840.10008.1.2.5', make: (b) => tools.convert(b, 'dcmcrle', []) },
  {
    name: 'JPEG Lossless .57 SV6 (dcmcjpeg +el)',
    uid: '1.2.840.10008.1.2.4.57',
    make: (b) => tools.convert(b, 'dcmcjpeg', ['+el']),
  },
  {
    name: 'JPEG Lossless .57 SV3 (dcmcjpeg +el +sv 3)',
    uid: '1.2.840.10008.1.2.4.57',
    make: (b) => tools.convert(b, 'dcmcjpeg', ['+el', '+sv', '3']),
  },
  {
    name: 'JPEG Lossless .70 SV1 (dcmcjpeg +e1)',
    uid: '1.2.840.10008.1.2.4.70',
    make: (b) => tools.convert(b, 'dcmcjpeg', ['+e1']),
  },
  {
    name: 'JPEG-LS .80 (dcmcjpls)',
    uid: '1.2.840.10008.1.2.4.80',
    make: (b) => tools.convert(b, 'dcmcjpls', []),
  },
  {
    name: 'JPEG-LS .81 NEAR=2 (dcmcjpls +en)',
    uid: '1.2.840.10008.1.2.4.81',
    make: (b) => tools.convert(b, 'dcmcjpls', ['+en']),
    maxError: 2,
    noSigned: true,
  },
  {
    name: 'JPEG 2000 .90 (gdcmconv --j2k)',
    uid: '1.2.840.10008.1.2.4.90',
    make: (b) => tools.convert(b, 'gdcmconv', ['--j2k']),
  },
  {
    name: 'JPEG 2000 .91 lossy (gdcmconv --j2k --lossy -q 80)',
    uid: '1.2.840.10008.1.2.4.91',
    make: (b) => tools.convert(b, 'gdcmconv', ['--j2k', '--lossy', '-q', '80']),
    maxError: Number.POSITIVE_INFINITY, // checked by mean error below
  },
];

const VARIANTS: [string, SyntheticChestOptions][] = [
  ['MONOCHROME2 12-bit', { photometric: 'MONOCHROME2', seed: 2 }],
  ['MONOCHROME1 12-bit', { photometric: 'MONOCHROME1', seed: 3 }],
  ['MONOCHROME2 16-bit signed', { bitsStored: 16, pixelRepresentation: 1, seed: 4 }],
  ['MONOCHROME2 8-bit', { bitsAllocated: 8, bitsStored: 8, seed: 5 }],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

describe('decodePixels: every accepted syntax equals the uncompressed original', () => {
  for (const [variant, opts] of VARIANTS) {
    for (const c of CASES.filter((k) => !(k.noSigned && opts.pixelRepresentation === 1))) {
      it(`${variant}: ${c.name}`, async () => {
        const original = makeSyntheticChest({ rows: 64, columns: 60, ...opts });
        const file = c.make(original.bytes);
        const info = inspectDicom(file);
        expect(info.ok && info.value.transferSyntaxUid).toBe(c.uid);
        const decoded = await decodePixels(file);
        if (!decoded.ok) throw new Error(`${decoded.error.code}: ${decoded.error.message}`);
        expect(decoded.value.data.length).toBe(64 * 60);
        expect(decoded.value.data.constructor).toBe(
          opts.pixelRepresentation === 1 ? Int16Array : Uint16Array,
        );
        const { max, mean } = maxAbsDiff(decoded.value.data, original.image.data);
        if (c.maxError === undefined) {
          expect(max).toBe(0);
        } else if (Number.isFinite(c.maxError)) {
          expect(max).toBeLessThanOrEqual(c.maxError);
        } else {
          const range = 2 ** (opts.bitsStored ?? 12);
          expect(mean / range).toBeLessThan(0.02);
        }
      });
    }
  }

  it('our own writer: implicit, big endian, deflated and RLE round-trip exactly', async () => {
    for (const transferSyntax of [
      '1.2.840.10008.1.2',
      '1.2.840.10008.1.2.2',
      '1.2.840.10008.1.2.1.99',
      '1.2.840.10008.1.2.5',
    ]) {
      for (const photometric of ['MONOCHROME1', 'MONOCHROME2'] as const) {
        const original = makeSyntheticChest({ rows: 40, columns: 33, transferSyntax, photometric, seed: 7 });
        const decoded = await decodePixels(original.bytes);
        if (!decoded.ok) throw new Error(decoded.error.message);
        expect(maxAbsDiff(decoded.value.data, original.image.data).max, transferSyntax).toBe(0);
        tools.dump(original.bytes); // DCMTK reads what we write
      }
    }
  });

  it('masks junk above Bits Stored in native and RLE files', async () => {
    for (const transferSyntax of ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2.5']) {
      const original = makeSyntheticChest({ rows: 16, columns: 16, transferSyntax, junkHighBits: true });
      const decoded = await decodePixels(original.bytes);
      if (!decoded.ok) throw new Error(decoded.error.message);
      expect(Array.from(decoded.value.data)).toEqual(Array.from(original.image.data));
    }
  });

  it('full size 3000 x 2800 MONOCHROME1: JPEG-LS decodes exactly (timed)', async () => {
    const original = makeSyntheticChest({ photometric: 'MONOCHROME1', seed: 11 });
    const file = tools.convert(original.bytes, 'dcmcjpls', []);
    const t0 = performance.now();
    const decoded = await decodePixels(file);
    const ms = performance.now() - t0;
    if (!decoded.ok) throw new Error(decoded.error.message);
    expect(maxAbsDiff(decoded.value.data, original.image.data).max).toBe(0);
    // Logged, not asserted: CI machines vary. Typical: ~200 ms incl. WASM start-up.
    console.info(`full-size JPEG-LS decode ${ms.toFixed(0)} ms, ${(file.length / 1e6).toFixed(1)} MB`);
  });
});
