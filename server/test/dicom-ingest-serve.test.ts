import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringElement } from '../src/dicom/dicom-writer.js';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import { TAG } from '../src/dicom/tags.js';
import { type RunningServer, startServer } from '../src/main.js';
import { ToolDir } from './dicom/fixtures.js';
import { filesUnder, getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import {
  ADMIN,
  Api,
  createPanel,
  type Panel,
  startTestServer,
  tempDir,
  testConfig,
} from './helpers/test-server.js';

/**
 * Serving imported files: who may read them (admins and panel members of a session holding the
 * scan), ETag/304, Range/206/416, immutable caching, thumbnails; and what is kept: the stored
 * file de-identified (checked with DCMTK's dcmdump), no patient attribute in logs, stored files
 * or the database, and Study UIDs replaced consistently across a restart.
 */
const tools = new ToolDir();
const PATIENT = { name: 'DOE^JANE^SECRET', id: 'PID-SECRET-4711', birth: '19450607' };
const ORIGINAL = {
  sop: '1.2.826.0.1.3680043.2.1125.99.424242',
  study: '1.2.826.0.1.3680043.2.1125.99.5151',
  series: '1.2.826.0.1.3680043.2.1125.99.6161',
};

function identified(sop: string, seed: number) {
  return makeSyntheticChest({
    rows: 128,
    columns: 120,
    seed,
    photometric: 'MONOCHROME1',
    sopInstanceUid: sop,
    studyInstanceUid: ORIGINAL.study,
    seriesInstanceUid: ORIGINAL.series,
    patientName: PATIENT.name,
    patientId: PATIENT.id,
    patientBirthDate: PATIENT.birth,
    patientSex: 'F',
    patientAge: '079Y',
    extraElements: [stringElement(TAG.InstitutionName, 'LO', 'SECRET GENERAL HOSPITAL')],
  }).bytes;
}

const SECRETS = [
  PATIENT.name,
  PATIENT.id,
  PATIENT.birth,
  ORIGINAL.sop,
  ORIGINAL.study,
  ORIGINAL.series,
  'SECRET GENERAL',
];

const logLines: string[] = [];
const dataDir = tempDir();
let server: RunningServer;
let panel: Panel;
let scanId: string;
let sha256: string;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  // Everything the server logs, at the most verbose level, must stay free of patient data.
  server = await startServer(testConfig({ DATA_DIR: dataDir }), { log: pino({ level: 'trace' }, sink) });
  panel = await createPanel(server, { readers: 1 });
  const res = await uploadDicom(server, panel.admin.token, identified(ORIGINAL.sop, 5));
  expect(res.status).toBe(201);
  scanId = String(res.body.id);
  sha256 = String(res.body.sha256);
  const session = await new Api(server.url, panel.admin.token).call('POST', '/api/sessions', {
    name: 'dicom panel',
    moderatorId: panel.moderator.id,
    readerIds: panel.readers.map((r) => r.id),
    scanIds: [scanId],
  });
  expect(session.status).toBe(201);
});
afterAll(async () => {
  await server?.close();
  tools.cleanup();
});

describe('who may read a scan', () => {
  for (const route of ['dicom', 'thumbnail']) {
    it(`${route}: admin and panel 200, outsider 403, other moderator 403, anonymous 401, unknown 404`, async () => {
      const url = `/api/scans/${scanId}/${route}`;
      expect((await getBytes(server, url, panel.admin.token)).status).toBe(200);
      expect((await getBytes(server, url, panel.moderator.token)).status).toBe(200);
      expect((await getBytes(server, url, panel.readers[0]!.token)).status).toBe(200);
      expect((await getBytes(server, url, panel.outsider.token)).status).toBe(403);
      const otherPanel = await createPanel(server, { readers: 0 });
      expect((await getBytes(server, url, otherPanel.moderator.token)).status).toBe(403);
      expect((await getBytes(server, url, undefined)).status).toBe(401);
      expect((await getBytes(server, `/api/scans/nope/${route}`, panel.admin.token)).status).toBe(404);
      // A scan registered by size only has no file to serve.
      expect(
        (await getBytes(server, `/api/scans/${panel.scanIds[0]}/${route}`, panel.admin.token)).status,
      ).toBe(404);
    });
  }
});

describe('GET /api/scans/:id/dicom', () => {
  it('sends the stored bytes with a strong ETag (their SHA-256) and immutable caching; 304 on match', async () => {
    const full = await getBytes(server, `/api/scans/${scanId}/dicom`, panel.readers[0]!.token);
    expect(createHash('sha256').update(full.bytes).digest('hex')).toBe(sha256);
    expect(full.headers.get('etag')).toBe(`"${sha256}"`);
    expect(full.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const again = await getBytes(server, `/api/scans/${scanId}/dicom`, panel.readers[0]!.token, {
      'if-none-match': `"${sha256}"`,
    });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
  });

  it('Range: 206 for a prefix, a suffix and an open end; 416 beyond the end; If-Range mismatch sends all', async () => {
    const url = `/api/scans/${scanId}/dicom`;
    const token = panel.readers[0]!.token;
    const full = (await getBytes(server, url, token)).bytes;
    const head = await getBytes(server, url, token, { range: 'bytes=0-131' });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-131/${full.length}`);
    expect(new TextDecoder().decode(head.bytes.subarray(128))).toBe('DICM');
    const tail = await getBytes(server, url, token, { range: 'bytes=-10' });
    expect(Array.from(tail.bytes)).toEqual(Array.from(full.subarray(full.length - 10)));
    const open = await getBytes(server, url, token, { range: `bytes=${full.length - 5}-` });
    expect(open.status).toBe(206);
    expect(open.bytes.length).toBe(5);
    const beyond = await getBytes(server, url, token, { range: `bytes=${full.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${full.length}`);
    const stale = await getBytes(server, url, token, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(full.length);
  });
});

describe('GET /api/scans/:id/thumbnail', () => {
  it('is a PNG, cached on disk after the first render, with its own ETag', async () => {
    const url = `/api/scans/${scanId}/thumbnail`;
    const first = await getBytes(server, url, panel.moderator.token);
    expect(first.headers.get('content-type')).toBe('image/png');
    expect(Array.from(first.bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cached = path.join(dataDir, 'thumbnails', sha256.slice(0, 2), `${sha256.slice(2)}.png`);
    expect(fs.existsSync(cached)).toBe(true);
    const second = await getBytes(server, url, panel.moderator.token);
    expect(Array.from(second.bytes)).toEqual(Array.from(first.bytes));
    const etag = first.headers.get('etag') ?? '';
    expect((await getBytes(server, url, panel.moderator.token, { 'if-none-match': etag })).status).toBe(304);
  });
});

describe('what is kept', () => {
  it('the stored file is de-identified (dcmdump): identifying attributes and original UIDs gone', async () => {
    const stored = (await getBytes(server, `/api/scans/${scanId}/dicom`, panel.admin.token)).bytes;
    const dump = tools.dump(stored);
    for (const secret of SECRETS) expect(dump).not.toContain(secret);
    expect(dump).toMatch(/\(0012,0062\) CS \[YES\]/); // Patient Identity Removed
    expect(dump).toMatch(/\(0010,0040\) CS \[F\]/); // sex kept for reading
    expect(dump).toMatch(/\(0010,1010\) AS \[079Y\]/); // age kept for reading
    expect(dump).toMatch(/\(0010,0010\) PN (\(no value available\)|\[\])/); // name emptied
  });

  it('no patient attribute or original UID in logs, stored files or the database', async () => {
    const logs = logLines.join('');
    expect(logs).toContain('dicom imported');
    const stores = [
      ...filesUnder(path.join(dataDir, 'dicom')).map((f) => path.join(dataDir, 'dicom', f)),
      ...fs
        .readdirSync(dataDir)
        .filter((f) => f.startsWith('cxr.sqlite'))
        .map((f) => path.join(dataDir, f)),
    ];
    for (const secret of SECRETS) {
      expect(logs).not.toContain(secret);
      for (const file of stores)
        expect(fs.readFileSync(file).includes(secret), `${secret} in ${file}`).toBe(false);
    }
  });

  it('the UID key is owner-only and keeps Study UIDs consistent across a restart', async () => {
    const keyFile = path.join(dataDir, 'dicom-uid-key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const first = (await getBytes(server, `/api/scans/${scanId}/dicom`, panel.admin.token)).bytes;
    await server.close();
    server = await startTestServer({ DATA_DIR: dataDir });
    const admin = (await new Api(server.url).login(ADMIN.username, ADMIN.password)).token;
    const res = await uploadDicom(server, admin, identified(`${ORIGINAL.sop}.2`, 6));
    expect(res.status).toBe(201);
    const second = (await getBytes(server, `/api/scans/${res.body.id}/dicom`, admin)).bytes;
    const studyUid = (bytes: Uint8Array) => /\(0020,000d\) UI \[([0-9.]+)\]/.exec(tools.dump(bytes))?.[1];
    expect(studyUid(first)).toMatch(/^2\.25\.\d+$/);
    expect(studyUid(second)).toBe(studyUid(first));
  });
});
