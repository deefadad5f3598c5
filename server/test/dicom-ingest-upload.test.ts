import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePixels } from '../src/dicom/decode.js';
import { type DicomElement, stringElement, usElement, writePart10 } from '../src/dicom/dicom-writer.js';
import { makeSyntheticChest, type SyntheticChestOptions } from '../src/dicom/synthetic.js';
import { TAG } from '../src/dicom/tags.js';
import type { RunningServer } from '../src/main.js';
import { ToolDir } from './dicom/fixtures.js';
import { getBytes, storedState, uploadDicom, uploadMultipart } from './helpers/dicom-ingest.js';
import { ADMIN, Api, createPanel, startTestServer } from './helpers/test-server.js';

/**
 * DICOM import over real HTTP (server on port 0, SQLite): every accepted syntax uploads and
 * comes back decoding to the original pixels; re-uploads are idempotent; every broken file gets
 * its library code and status with nothing stored; bodies over MAX_UPLOAD_BYTES get 413.
 */
const MAX_UPLOAD = 256 * 1024;
const tools = new ToolDir();
let server: RunningServer;
let admin: string;

beforeAll(async () => {
  server = await startTestServer({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD), MAX_UPLOAD_FILES: '5' });
  admin = (await new Api(server.url).login(ADMIN.username, ADMIN.password)).token;
});
afterAll(async () => {
  await server.close();
  tools.cleanup();
});

let seed = 100;
/** A small synthetic chest with its own SOP Instance UID (so it is a new scan). */
function chest(options: SyntheticChestOptions = {}) {
  seed += 1;
  return makeSyntheticChest({ rows: 96, columns: 88, seed, sopInstanceUid: `2.25.77${seed}`, ...options });
}

const SYNTAXES: Array<{ name: string; uid: string; make: (b: Uint8Array) => Uint8Array; maxError?: number }> =
  [
    { name: 'explicit VR LE', uid: '1.2.840.10008.1.2.1', make: (b) => b },
    { name: 'implicit VR LE', uid: '1.2.840.10008.1.2', make: (b) => tools.convert(b, 'dcmconv', ['+ti']) },
    { name: 'explicit VR BE', uid: '1.2.840.10008.1.2.2', make: (b) => tools.convert(b, 'dcmconv', ['+tb']) },
    { name: 'deflated', uid: '1.2.840.10008.1.2.1.99', make: (b) => tools.convert(b, 'dcmconv', ['+td']) },
    { name: 'RLE', uid: '1.2.840.10008.1.2.5', make: (b) => tools.convert(b, 'dcmcrle', []) },
    {
      name: 'JPEG Lossless .57',
      uid: '1.2.840.10008.1.2.4.57',
      make: (b) => tools.convert(b, 'dcmcjpeg', ['+el']),
    },
    {
      name: 'JPEG Lossless .70',
      uid: '1.2.840.10008.1.2.4.70',
      make: (b) => tools.convert(b, 'dcmcjpeg', ['+e1']),
    },
    { name: 'JPEG-LS .80', uid: '1.2.840.10008.1.2.4.80', make: (b) => tools.convert(b, 'dcmcjpls', []) },
    {
      name: 'JPEG-LS .81 NEAR=2',
      uid: '1.2.840.10008.1.2.4.81',
      make: (b) => tools.convert(b, 'dcmcjpls', ['+en']),
      maxError: 2,
    },
    {
      name: 'JPEG 2000 .90',
      uid: '1.2.840.10008.1.2.4.90',
      make: (b) => tools.convert(b, 'gdcmconv', ['--j2k']),
    },
  ];

/** Native syntaxes are stored as explicit VR LE after de-identification; fragments stay. */
const NATIVE = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.1.99',
]);

describe('upload and read back', () => {
  for (const c of SYNTAXES) {
    for (const photometric of ['MONOCHROME1', 'MONOCHROME2'] as const) {
      it(`${c.name} ${photometric}: 201, GET /dicom decodes to the original pixels`, async () => {
        const original = chest({ photometric });
        const res = await uploadDicom(server, admin, c.make(original.bytes));
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body).toMatchObject({
          rows: 96,
          columns: 88,
          bitsStored: 12,
          photometric,
          duplicate: false,
          transferSyntaxUid: NATIVE.has(c.uid) ? '1.2.840.10008.1.2.1' : c.uid,
          lossy: c.maxError !== undefined,
        });
        const got = await getBytes(server, `/api/scans/${res.body.id}/dicom`, admin);
        expect(got.status).toBe(200);
        expect(got.headers.get('content-type')).toBe('application/dicom');
        const decoded = await decodePixels(got.bytes);
        if (!decoded.ok) throw new Error(decoded.error.message);
        let max = 0;
        for (let i = 0; i < original.image.data.length; i++) {
          max = Math.max(max, Math.abs(decoded.value.data[i]! - original.image.data[i]!));
        }
        expect(max).toBeLessThanOrEqual(c.maxError ?? 0);
        // The thumbnail decodes the stored file as read from disk (a Node Buffer).
        const thumb = await getBytes(server, `/api/scans/${res.body.id}/thumbnail`, admin);
        expect(thumb.status).toBe(200);
      });
    }
  }

  it('the same file twice is one scan: 201 then 200 with duplicate: true, nothing added', async () => {
    const bytes = chest().bytes;
    const first = await uploadDicom(server, admin, bytes);
    expect(first.status).toBe(201);
    const before = await storedState(server);
    const again = await uploadDicom(server, admin, bytes);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, sha256: first.body.sha256, duplicate: true });
    expect(await storedState(server)).toEqual(before);
  });

  it('another file claiming the same SOP Instance UID is a 409 conflict', async () => {
    const a = chest({ seed: 1 });
    const b = makeSyntheticChest({ rows: 96, columns: 88, seed: 2, sopInstanceUid: `2.25.77${seed}` });
    expect((await uploadDicom(server, admin, a.bytes)).status).toBe(201);
    const before = await storedState(server);
    const res = await uploadDicom(server, admin, b.bytes);
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('conflict');
    expect(await storedState(server)).toEqual(before);
  });

  it('a file without SOP Instance UID is named by its file name stem (header, query, disposition)', async () => {
    const named = (s: number) =>
      makeSyntheticChest({ rows: 32, columns: 30, seed: s, sopInstanceUid: null }).bytes;
    const viaHeader = await uploadDicom(server, admin, named(1), { 'x-file-name': 'dir/abc123.dicom' });
    expect(viaHeader.body.id).toBe('abc123');
    const viaQuery = await uploadDicom(server, admin, named(2), {}, '?fileName=fromquery.dcm');
    expect(viaQuery.body.id).toBe('fromquery');
    const viaDisposition = await uploadDicom(server, admin, named(3), {
      'content-disposition': 'attachment; filename="disp-1.dcm"',
    });
    expect(viaDisposition.body.id).toBe('disp-1');
  });

  it('JSON registration by size still works; other content types get 415', async () => {
    const api = new Api(server.url, admin);
    expect((await api.call('POST', '/api/scans', { id: 'json-only', rows: 10, columns: 12 })).status).toBe(
      201,
    );
    const text = await uploadDicom(server, admin, new Uint8Array(4), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('only admins and moderators upload: reader 403, anonymous 401', async () => {
    const panel = await createPanel(server, { readers: 1 });
    const bytes = chest().bytes;
    expect((await uploadDicom(server, panel.readers[0]!.token, bytes)).status).toBe(403);
    expect((await uploadDicom(server, undefined, bytes)).status).toBe(401);
    expect((await uploadDicom(server, panel.moderator.token, bytes)).status).toBe(201);
  });
});

/** Overwrites the first US value of `tag` in an explicit VR LE file. */
function patchUs(bytes: Uint8Array, tag: number, value: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 132; i + 10 <= out.length; i++) {
    const t = ((out[i + 1]! << 24) | (out[i]! << 16) | (out[i + 3]! << 8) | out[i + 2]!) >>> 0;
    if (t === tag && out[i + 4] === 0x55 && out[i + 5] === 0x53) {
      out[i + 8] = value & 0xff;
      out[i + 9] = value >> 8;
      return out;
    }
  }
  throw new Error('tag not found');
}

/** A JPEG-LS file whose one fragment is not JPEG-LS: only decoding can tell. */
function corruptJpegLs(): Uint8Array {
  const els: DicomElement[] = [
    usElement(TAG.SamplesPerPixel, [1]),
    stringElement(TAG.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    usElement(TAG.Rows, [8]),
    usElement(TAG.Columns, [8]),
    usElement(TAG.BitsAllocated, [16]),
    usElement(TAG.BitsStored, [12]),
    usElement(TAG.HighBit, [11]),
    usElement(TAG.PixelRepresentation, [0]),
    {
      tag: TAG.PixelData,
      vr: 'OB',
      fragments: { basicOffsetTable: [], fragments: [new Uint8Array(128).fill(7)] },
    },
  ];
  return writePart10(
    { sopClassUid: '1.2.3', sopInstanceUid: '2.25.4242', transferSyntaxUid: '1.2.840.10008.1.2.4.80' },
    els,
  );
}

const good = () => makeSyntheticChest({ rows: 64, columns: 60, seed: 21, sopInstanceUid: '2.25.2121' }).bytes;

/** The bad inputs tried, each with the code and status it must get. */
const BROKEN: Array<[string, () => Uint8Array, string, number]> = [
  ['empty file', () => new Uint8Array(0), 'dicom_empty', 400],
  ['a text file', () => new TextEncoder().encode('not a DICOM file\n'.repeat(20)), 'dicom_not_dicom', 400],
  [
    'a PNG header',
    () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, ...new Uint8Array(300)]),
    'dicom_not_dicom',
    400,
  ],
  [
    'wrong magic (DICX)',
    () => {
      const b = good();
      b[131] = 0x58;
      return b;
    },
    'dicom_not_dicom',
    400,
  ],
  ['no preamble', () => good().slice(128), 'dicom_no_preamble', 400],
  ['truncated in the header', () => good().slice(0, 200), 'dicom_truncated', 400],
  ['truncated in pixel data', () => good().slice(0, good().length - 1000), 'dicom_truncated', 400],
  [
    'pixel data one row short',
    () => patchUs(makeSyntheticChest({ rows: 63, columns: 60, seed: 21 }).bytes, TAG.Rows, 64),
    'dicom_pixel_length',
    422,
  ],
  ['rows larger than the data', () => patchUs(good(), TAG.Rows, 1000), 'dicom_pixel_length', 422],
  [
    '65535 x 65535',
    () => patchUs(patchUs(good(), TAG.Rows, 65535), TAG.Columns, 65535),
    'dicom_too_large',
    413,
  ],
  ['rows 0', () => patchUs(good(), TAG.Rows, 0), 'dicom_bad_value', 422],
  ['bits stored 20', () => patchUs(good(), TAG.BitsStored, 20), 'dicom_bad_value', 422],
  ['samples per pixel 3', () => patchUs(good(), TAG.SamplesPerPixel, 3), 'dicom_unsupported_image', 422],
  ['JPEG Baseline', () => tools.convert(good(), 'dcmcjpeg', ['+eb']), 'dicom_unsupported_syntax', 415],
  ['corrupt JPEG-LS codestream', corruptJpegLs, 'dicom_decode_failed', 422],
];

describe('broken files: their code, nothing stored, server stays up', () => {
  for (const [name, make, code, status] of BROKEN) {
    it(`${name} -> ${status} ${code}`, async () => {
      const before = await storedState(server);
      const res = await uploadDicom(server, admin, make());
      expect(res.status).toBe(status);
      expect(res.body.error?.code).toBe(code);
      expect(res.body.error?.message).toBeTruthy();
      expect(await storedState(server)).toEqual(before);
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    });
  }

  it('the 415 message names the transfer syntax', async () => {
    const res = await uploadDicom(server, admin, tools.convert(good(), 'dcmcjpeg', ['+eb']));
    expect(res.body.error?.message).toContain('1.2.840.10008.1.2.4.50');
  });
});

describe('size bound (MAX_UPLOAD_BYTES)', () => {
  const oversized = () => new Uint8Array(MAX_UPLOAD + 1024).fill(1);

  it('a body declared larger than the bound is 413 before it is read', async () => {
    const before = await storedState(server);
    const res = await uploadDicom(server, admin, oversized());
    expect(res.status).toBe(413);
    expect(res.body.error?.code).toBe('payload_too_large');
    expect(await storedState(server)).toEqual(before);
  });

  it('a chunked body without length is cut at the bound: 413, spool file removed', async () => {
    const before = await storedState(server);
    const bytes = oversized();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 16384) controller.enqueue(bytes.subarray(i, i + 16384));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/api/scans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/dicom' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await storedState(server)).toEqual(before);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it('a multipart part over the bound is rejected on its own (413 in the report)', async () => {
    const ok = chest().bytes;
    const res = await uploadMultipart(server, admin, [
      { name: 'ok.dcm', bytes: ok },
      { name: 'huge.dcm', bytes: oversized() },
    ]);
    expect(res.status).toBe(207);
    expect(res.body.rejected).toEqual([expect.objectContaining({ fileName: 'huge.dcm', status: 413 })]);
  });

  it('more files than MAX_UPLOAD_FILES in one multipart upload is 413', async () => {
    const files = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.dcm`, bytes: new Uint8Array(10) }));
    const res = await uploadMultipart(server, admin, files);
    expect(res.status).toBe(413);
  });
});

describe('multipart uploads', () => {
  it('all good: 201 with every scan; again: 200, all duplicates', async () => {
    const files = [
      { name: 'a.dcm', bytes: chest().bytes },
      { name: 'b.dcm', bytes: chest({ transferSyntax: '1.2.840.10008.1.2.5' }).bytes },
    ];
    const first = await uploadMultipart(server, admin, files);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.scans).toHaveLength(2);
    const again = await uploadMultipart(server, admin, files);
    expect(again.status).toBe(200);
    expect(again.body.scans).toEqual([
      expect.objectContaining({ duplicate: true }),
      expect.objectContaining({ duplicate: true }),
    ]);
  });

  it('some bad: 207 with scans and rejected; all bad: the first refusal as the error', async () => {
    const before = await storedState(server);
    const mixed = await uploadMultipart(server, admin, [
      { name: 'good.dcm', bytes: chest().bytes },
      { name: 'notes.txt', bytes: new TextEncoder().encode('hello') },
    ]);
    expect(mixed.status).toBe(207);
    expect(mixed.body.rejected).toEqual([
      expect.objectContaining({ fileName: 'notes.txt', code: 'dicom_not_dicom', status: 400 }),
    ]);
    const after = await storedState(server);
    expect(after.rows).toBe(before.rows + 1);

    const allBad = await uploadMultipart(server, admin, [
      { name: 'x.txt', bytes: new TextEncoder().encode('hello') },
      { name: 'empty.dcm', bytes: new Uint8Array(0) },
    ]);
    expect(allBad.status).toBe(400);
    expect(allBad.body.error?.code).toBe('dicom_not_dicom');
    expect(allBad.body.error?.details).toMatchObject({
      rejected: [{ fileName: 'x.txt' }, { code: 'dicom_empty' }],
    });
    expect(await storedState(server)).toEqual(after);
  });
});
