import { afterAll, describe, expect, it } from 'vitest';
import { decodePixels } from '../../src/dicom/decode.js';
import { type DicomElement, usElement, writePart10 } from '../../src/dicom/dicom-writer.js';
import type { DicomErrorCode } from '../../src/dicom/errors.js';
import { inspectDicom } from '../../src/dicom/inspect.js';
import { makeSyntheticChest, nativeBytes } from '../../src/dicom/synthetic.js';
import { ToolDir } from './fixtures.js';

/**
 * Broken and refused files, each with the error code it must get. Every case is also run
 * through decodePixels, which must refuse it the same way without reaching a codec.
 */
const tools = new ToolDir();
afterAll(() => tools.cleanup());

const good = () => makeSyntheticChest({ rows: 64, columns: 60, seed: 21 }).bytes;

/** Overwrites the first US value of `tag` in an explicit VR LE file. */
function patchUs(bytes: Uint8Array, tag: number, value: number): Uint8Array {
  const out = bytes.slice();
  const g = tag >>> 16;
  const e = tag & 0xffff;
  for (let i = 132; i + 10 <= out.length; i++) {
    if (
      out[i] === (g & 0xff) &&
      out[i + 1] === g >> 8 &&
      out[i + 2] === (e & 0xff) &&
      out[i + 3] === e >> 8
    ) {
      if (out[i + 4] === 0x55 && out[i + 5] === 0x53) {
        out[i + 8] = value & 0xff;
        out[i + 9] = value >> 8;
        return out;
      }
    }
  }
  throw new Error('tag not found');
}

const ROWS = 0x00280010;
const COLUMNS = 0x00280011;
const BITS_STORED = 0x00280101;
const SAMPLES = 0x00280002;

/** A file written with our writer from a custom element list (for structural breakage). */
function custom(transferSyntaxUid: string, replace: (els: DicomElement[]) => DicomElement[]): Uint8Array {
  const { image } = makeSyntheticChest({ rows: 8, columns: 8 });
  const els: DicomElement[] = [
    usElement(SAMPLES, [1]),
    { tag: 0x00280004, vr: 'CS', value: new TextEncoder().encode('MONOCHROME2 ') },
    usElement(ROWS, [8]),
    usElement(COLUMNS, [8]),
    usElement(0x00280100, [16]),
    usElement(BITS_STORED, [12]),
    usElement(0x00280102, [11]),
    usElement(0x00280103, [0]),
    { tag: 0x7fe00010, vr: 'OW', value: nativeBytes(image) },
  ];
  return writePart10({ sopClassUid: '1.2.3', sopInstanceUid: '1.2.3.4', transferSyntaxUid }, replace(els));
}

const CASES: [string, () => Uint8Array, DicomErrorCode, number][] = [
  ['empty file', () => new Uint8Array(0), 'dicom_empty', 400],
  [
    'a text file',
    () => new TextEncoder().encode('Hello, this is not a DICOM file.\n'.repeat(20)),
    'dicom_not_dicom',
    400,
  ],
  [
    'a PNG header',
    () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(200)]),
    'dicom_not_dicom',
    400,
  ],
  [
    'wrong magic (DICX at 128)',
    () => {
      const b = good();
      b[131] = 0x58;
      return b;
    },
    'dicom_not_dicom',
    400,
  ],
  ['no preamble (DICM at offset 0)', () => good().slice(128), 'dicom_no_preamble', 400],
  ['truncated in the header (200 bytes)', () => good().slice(0, 200), 'dicom_truncated', 400],
  ['truncated in the meta header (140 bytes)', () => good().slice(0, 140), 'dicom_truncated', 400],
  [
    'truncated in pixel data',
    () => {
      const b = good();
      return b.slice(0, b.length - 1000);
    },
    'dicom_truncated',
    400,
  ],
  [
    'pixel data one row short',
    () => patchUs(makeSyntheticChest({ rows: 63, columns: 60, seed: 21 }).bytes, ROWS, 64),
    'dicom_pixel_length',
    422,
  ],
  ['rows larger than the data', () => patchUs(good(), ROWS, 1000), 'dicom_pixel_length', 422],
  ['65535 x 65535', () => patchUs(patchUs(good(), ROWS, 65535), COLUMNS, 65535), 'dicom_too_large', 413],
  ['8193 columns', () => patchUs(good(), COLUMNS, 8193), 'dicom_too_large', 413],
  ['rows 0', () => patchUs(good(), ROWS, 0), 'dicom_bad_value', 422],
  ['bits stored 20', () => patchUs(good(), BITS_STORED, 20), 'dicom_bad_value', 422],
  ['samples per pixel 3', () => patchUs(good(), SAMPLES, 3), 'dicom_unsupported_image', 422],
  [
    'Rows missing',
    () => custom('1.2.840.10008.1.2.1', (els) => els.filter((e) => e.tag !== ROWS)),
    'dicom_missing_tag',
    422,
  ],
  [
    'Pixel Data missing',
    () => custom('1.2.840.10008.1.2.1', (els) => els.filter((e) => e.tag !== 0x7fe00010)),
    'dicom_missing_tag',
    422,
  ],
  [
    'RGB photometric',
    () =>
      custom('1.2.840.10008.1.2.1', (els) =>
        els.map((e) =>
          e.tag === 0x00280004 ? { tag: e.tag, vr: 'CS', value: new TextEncoder().encode('RGB ') } : e,
        ),
      ),
    'dicom_unsupported_image',
    422,
  ],
  [
    'native pixel data in a JPEG-LS file (no fragments)',
    () => custom('1.2.840.10008.1.2.4.80', (els) => els),
    'dicom_no_fragments',
    422,
  ],
  [
    'JPEG Baseline (dcmcjpeg +eb)',
    () => tools.convert(good(), 'dcmcjpeg', ['+eb']),
    'dicom_unsupported_syntax',
    415,
  ],
  ['unknown transfer syntax', () => custom('1.2.3.4.5.6', (els) => els), 'dicom_unsupported_syntax', 415],
  [
    'JPEG-LS fragment that is not JPEG-LS',
    () =>
      custom('1.2.840.10008.1.2.4.80', (els) =>
        els.map((e) =>
          e.tag === 0x7fe00010
            ? {
                tag: e.tag,
                vr: 'OB',
                fragments: { basicOffsetTable: [], fragments: [new Uint8Array(128).fill(7)] },
              }
            : e,
        ),
      ),
    'dicom_decode_failed',
    422,
  ],
];

describe('broken and refused files', () => {
  for (const [name, make, code, status] of CASES) {
    it(`${name} -> ${code} (${status})`, async () => {
      const bytes = make();
      const inspected = inspectDicom(bytes);
      const decoded = await decodePixels(bytes);
      if (code === 'dicom_decode_failed') {
        // Only decoding can find a corrupt codestream; inspect sees a well-formed file.
        expect(inspected.ok).toBe(true);
      } else {
        expect(inspected.ok ? 'accepted' : inspected.error.code).toBe(code);
        expect(inspected.ok ? 0 : inspected.error.status).toBe(status);
      }
      expect(decoded.ok ? 'accepted' : decoded.error.code).toBe(code);
    });
  }

  it('names the refused transfer syntax in the 415 message', () => {
    const r = inspectDicom(tools.convert(good(), 'dcmcjpeg', ['+eb']));
    expect(r.ok ? '' : r.error.message).toContain('JPEG Baseline (Process 1) (1.2.840.10008.1.2.4.50)');
  });

  it('a deflate stream inflating beyond the bound is refused as too large', () => {
    const bytes = makeSyntheticChest({
      rows: 64,
      columns: 60,
      transferSyntax: '1.2.840.10008.1.2.1.99',
    }).bytes;
    const r = inspectDicom(bytes, { maxInflatedBytes: 4096 });
    expect(r.ok ? 'accepted' : r.error.code).toBe('dicom_too_large');
    expect(inspectDicom(bytes).ok).toBe(true);
  });

  it('accepts a bare implicit VR dataset without preamble or meta header', async () => {
    const original = makeSyntheticChest({ rows: 32, columns: 30, transferSyntax: '1.2.840.10008.1.2' });
    // Cut preamble, DICM and the meta group: the dataset starts at the first 0008 group tag.
    const metaLength = new DataView(original.bytes.buffer).getUint32(140, true);
    const bare = original.bytes.slice(144 + metaLength);
    const info = inspectDicom(bare);
    expect(info.ok && info.value.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(info.ok && info.value.part10).toBe(false);
    const decoded = await decodePixels(bare);
    expect(decoded.ok && Array.from(decoded.value.data)).toEqual(Array.from(original.image.data));
  });

  it('tolerates trailing bytes after one frame with a warning', () => {
    const els = (e: DicomElement[]) =>
      e.map((x) =>
        x.tag === 0x7fe00010 && 'value' in x ? { ...x, value: new Uint8Array(8 * 8 * 2 + 16) } : x,
      );
    const r = inspectDicom(custom('1.2.840.10008.1.2.1', els));
    expect(r.ok && r.value.warnings.join()).toContain('beyond one frame');
  });
});
