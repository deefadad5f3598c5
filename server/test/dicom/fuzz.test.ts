import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/dicom/synthetic-anatomy.js';
import { decodePixels } from '../../src/dicom/decode.js';
import { deidentify } from '../../src/dicom/deidentify.js';
import { inspectDicom, MAX_IMAGE_SIDE } from '../../src/dicom/inspect.js';
import { makeSyntheticChest } from '../../src/dicom/synthetic.js';
import { createUidMapper } from '../../src/dicom/uid-mapper.js';
import { ToolDir } from './fixtures.js';

/**
 * Seeded fuzz of mutated files: byte flips, overwritten length fields, truncations, splices and
 * inserted junk over small files in several syntaxes. For every mutant, inspect / decode /
 * deidentify must return a value (never throw), finish quickly, and never produce more pixels
 * than the bound. A failing seed prints its number; keep such seeds below as named cases.
 */
const tools = new ToolDir();
afterAll(() => tools.cleanup());

const SEED = 20_240_611;
const MUTANTS_PER_BASE = 60;
/** (seed, base index, mutant index) that once failed; run first as regressions. */
const REGRESSIONS: [number, number, number][] = [
  [SEED, 1, 53], // DS with fewer values than asked: dicom-parser's floatString threw a TypeError
  [SEED, 4, 57], // garbage VR copied into the de-identified file made it unreadable
  [2, 5, 135], // US mutated to UV: written as a long VR, which dicom-parser reads as short
  [1, 0, 0], // mutate() itself overran a DataView on a file cut below 4 bytes (test bug)
];

function bases(): [string, Uint8Array][] {
  const le = makeSyntheticChest({ rows: 24, columns: 20, seed: 41 }).bytes;
  return [
    ['explicit LE', le],
    ['implicit LE', makeSyntheticChest({ rows: 24, columns: 20, transferSyntax: '1.2.840.10008.1.2' }).bytes],
    [
      'big endian',
      makeSyntheticChest({ rows: 24, columns: 20, transferSyntax: '1.2.840.10008.1.2.2' }).bytes,
    ],
    [
      'deflated',
      makeSyntheticChest({ rows: 24, columns: 20, transferSyntax: '1.2.840.10008.1.2.1.99' }).bytes,
    ],
    ['RLE', makeSyntheticChest({ rows: 24, columns: 20, transferSyntax: '1.2.840.10008.1.2.5' }).bytes],
    ['JPEG-LS', tools.convert(le, 'dcmcjpls', [])],
    ['JPEG Lossless', tools.convert(le, 'dcmcjpeg', ['+e1'])],
    ['JPEG 2000', tools.convert(le, 'gdcmconv', ['--j2k'])],
  ];
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  let b = src.slice();
  const steps = 1 + int(4);
  for (let s = 0; s < steps; s++) {
    switch (int(6)) {
      case 0: // flip random bytes
        for (let k = 0, n = 1 + int(8); k < n; k++) b[int(b.length)] = int(256);
        break;
      case 1: {
        // overwrite a 4-byte window with a huge or small number (hits length fields and UL values)
        if (b.length < 4) break;
        const p = int(b.length - 3);
        const v = [0xffffffff, 0x7fffffff, 0xffff, 0, 1, b.length, int(0xffffffff)][int(7)]!;
        new DataView(b.buffer, b.byteOffset).setUint32(p, v >>> 0, true);
        break;
      }
      case 2: // truncate
        b = b.slice(0, int(b.length));
        break;
      case 3: {
        // delete a slice
        const p = int(b.length);
        b = new Uint8Array([...b.subarray(0, p), ...b.subarray(Math.min(b.length, p + 1 + int(64)))]);
        break;
      }
      case 4: {
        // insert junk
        const p = int(b.length);
        const junk = Array.from({ length: 1 + int(32) }, () => int(256));
        b = new Uint8Array([...b.subarray(0, p), ...junk, ...b.subarray(p)]);
        break;
      }
      default: {
        // mutate bytes near the header attributes (Rows, Columns, Bits) where checks live
        const p = 132 + int(Math.min(600, Math.max(1, b.length - 132)));
        if (p < b.length) b[p] = [0, 0xff, 0x10, 0x20, int(256)][int(5)]!;
      }
    }
  }
  return b;
}

async function checkMutant(bytes: Uint8Array): Promise<void> {
  const t0 = performance.now();
  const info = inspectDicom(bytes);
  const decoded = await decodePixels(bytes);
  const deid = deidentify(bytes, { profile: 'basic', uidMap: createUidMapper(new Uint8Array(32)) });
  const ms = performance.now() - t0;
  expect(ms).toBeLessThan(2_000);
  for (const r of [info, decoded, deid]) {
    if (!r.ok) {
      expect(r.error.code).toMatch(/^dicom_/);
      expect([400, 413, 415, 422]).toContain(r.error.status);
    }
  }
  if (info.ok) {
    expect(info.value.rows).toBeLessThanOrEqual(MAX_IMAGE_SIDE);
    expect(info.value.columns).toBeLessThanOrEqual(MAX_IMAGE_SIDE);
  }
  if (decoded.ok) expect(decoded.value.data.length).toBe(decoded.value.rows * decoded.value.columns);
  // A de-identified mutant must itself be a file we can read again.
  if (deid.ok) {
    const again = inspectDicom(deid.value);
    expect(again.ok ? 'ok' : again.error.message).toBe('ok');
  }
}

describe('fuzz: mutated files never throw, hang or over-allocate', () => {
  it(`${MUTANTS_PER_BASE} mutants of each of 8 syntaxes (seed ${SEED})`, async () => {
    const all = bases();
    const rss0 = process.memoryUsage().rss;
    const order: [number, number, number][] = [...REGRESSIONS];
    for (let bi = 0; bi < all.length; bi++)
      for (let m = 0; m < MUTANTS_PER_BASE; m++) order.push([SEED, bi, m]);
    let refused = 0;
    for (const [seed, bi, m] of order) {
      const [name, base] = all[bi]!;
      const rnd = seededRandom(seed + bi * 10_007 + m * 7919);
      const mutant = mutate(base, rnd);
      try {
        await checkMutant(mutant);
      } catch (e) {
        throw new Error(
          `fuzz failure: seed ${seed}, base ${bi} (${name}), mutant ${m}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      if (!inspectDicom(mutant).ok) refused++;
    }
    // Sanity: the mutations actually break things most of the time.
    expect(refused).toBeGreaterThan(order.length / 10);
    // Nothing near an 8192^2 image was ever allocated for 24 x 20 inputs.
    expect(process.memoryUsage().rss - rss0).toBeLessThan(512 * 1024 * 1024);
  });
});
