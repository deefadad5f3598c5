import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringElement } from '../src/dicom/dicom-writer.js';
import { parseDicomBytes } from '../src/dicom/parse.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { TAG } from '../src/dicom/tags.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import { OrthancProcess } from './helpers/orthanc.js';
import { ServerProcess } from './helpers/server-process.js';
import {
  Api,
  PG_URL,
  type Panel,
  createPanel,
  freePort,
  pgSchemaName,
  tempDir,
} from './helpers/test-server.js';
import { dsrdump, pacsFile, srInstances, toFile, waitForPush } from './pacs-push-fixtures.js';

/**
 * The documented two-node topology with the hospital around it, as local processes: two nodes
 * over one PostgreSQL (own schema) and Redis, each with its own DATA_DIR, IMAGE_STORE=dicomweb
 * against a real Orthanc archive, and a second real Orthanc as the source PACS holding
 * identified full-size chest X-rays (3000 x 2800). What a user does: query and import on node
 * A, open on node B, lock, and find the SR in the PACS with the patient's study; then the
 * archive and a node go away.
 */
const source = new OrthancProcess('two-node-source');
const archive = new OrthancProcess('two-node-archive');
const STUDY = '2.25.71000000001';
const SLOW_STUDY = '2.25.72000000001';
let a: ServerProcess;
let b: ServerProcess;
let panel: Panel;
let sessionId: string;
let adminA: Api;
let adminB: Api;
const originals = new Map<string, Uint8Array>();
const SCHEMA = pgSchemaName();

/** Rows of scan_files in the nodes' schema (what a half-stored import would leave). */
async function scanFileRows(): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const res = await client.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.scan_files`);
    return Number(res.rows[0].n);
  } finally {
    await client.end();
  }
}

function film(i: number, study: string, full: boolean): Uint8Array {
  return makeSyntheticChestDicom({
    ...(full ? {} : { rows: 200, columns: 180 }),
    seed: 200 + i,
    patientId: 'TWO-NODE-1',
    patientName: 'NODES^DORA',
    patientBirthDate: '19610203',
    studyInstanceUid: study,
    seriesInstanceUid: `${study}.1`,
    sopInstanceUid: `${study}.1.${i}`,
    extraElements: [stringElement(TAG.AccessionNumber, 'SH', 'ACC-TWO')],
  });
}

/** The Pixel Data element's bytes. */
function pixels(bytes: Uint8Array): Uint8Array {
  const parsed = parseDicomBytes(bytes);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const el = parsed.value.dataSet.elements.x7fe00010;
  if (!el) throw new Error('no pixel data');
  return bytes.subarray(el.dataOffset, el.dataOffset + el.length);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Job {
  state: string;
  total: number;
  done: number;
  failed: number;
  scans: Array<{ id: string; sopInstanceUid: string }>;
}

async function waitForJob(api: Api, id: string, until: (j: Job) => boolean, timeout = 30_000): Promise<Job> {
  let last: Job | undefined;
  await expect
    .poll(
      async () => {
        const res = await api.call('GET', `/api/pacs/imports/${id}`);
        last = res.body as unknown as Job;
        return res.status === 200 && until(last);
      },
      { timeout, interval: 100 },
    )
    .toBe(true)
    .catch((error: unknown) => {
      throw new Error(`job never got there; last seen ${JSON.stringify(last)}`, { cause: error });
    });
  return last!;
}

beforeAll(async () => {
  await source.start();
  await archive.start();
  for (const i of [1, 2]) {
    const bytes = film(i, STUDY, true);
    originals.set(`${STUDY}.1.${i}`, bytes);
    await source.upload(bytes);
  }
  for (const i of [1, 2, 3]) await source.upload(film(i, SLOW_STUDY, false));
  const env = {
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: SCHEMA,
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `cxr-dw-${process.pid}:`,
    TOKEN_SECRET: 'a-shared-secret-of-at-least-32-characters!',
    DICOM_UID_KEY: 'cd'.repeat(32),
    IMAGE_STORE: 'dicomweb',
    IMAGE_STORE_URL: archive.dicomWebUrl,
    PACS_URL: source.dicomWebUrl,
    PACS_PUSH_RETRY_MS: '200',
    PACS_JOB_LEASE_MS: '500',
    DICOMWEB_TIMEOUT_MS: '2000',
  };
  a = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
  b = new ServerProcess(await freePort(), { ...env, DATA_DIR: tempDir() });
  await a.start();
  await b.start();
  panel = await createPanel(a, { readers: 1, scans: [{ rows: 64, columns: 64 }] });
  adminA = panel.api.as(panel.admin.token);
  adminB = new Api(b.url, panel.admin.token);
  const session = await adminA.call('POST', '/api/sessions', {
    name: 'two nodes',
    moderatorId: panel.moderator.id,
    readerIds: [panel.readers[0]!.id],
    scanIds: [panel.scanIds[0]!],
  });
  expect(session.status).toBe(201);
  sessionId = String(session.body.id);
}, 120_000);

afterAll(async () => {
  await a?.stop('SIGKILL');
  await b?.stop('SIGKILL');
  source.thaw();
  await source.stop();
  await archive.stop();
});

describe('two nodes, one DICOMweb archive, a real source PACS', () => {
  it('R-IMG-1, R-IMG-2, R-PACS-4, R-PUSH-4: imported on A, served by B (no PHI, same pixels), locked on B, the SR in the patient’s study', async () => {
    const query = await adminA.call('GET', '/api/pacs/studies?PatientID=TWO-NODE-1&AccessionNumber=ACC-TWO');
    const uids = (query.body as { studies: Array<{ studyInstanceUid: string }> }).studies.map(
      (s) => s.studyInstanceUid,
    );
    expect(uids.sort()).toEqual([STUDY, SLOW_STUDY].sort());
    const started = await adminA.call('POST', '/api/pacs/imports', { studyInstanceUids: [STUDY], sessionId });
    expect(started.status).toBe(202);
    const job = await waitForJob(adminA, String(started.body.id), (j) => j.state === 'done');
    expect(job).toMatchObject({ total: 2, done: 2, failed: 0 });
    // The archive holds the de-identified copies: two instances, neither under the original UIDs.
    expect((await archive.rest('/instances')) as string[]).toHaveLength(2);

    const reader = panel.readers[0]!;
    for (const scan of job.scans) {
      const onB = await getBytes(b, `/api/scans/${scan.id}/dicom`, reader.token);
      expect(onB.status).toBe(200);
      const onA = await getBytes(a, `/api/scans/${scan.id}/dicom`, reader.token);
      expect(sha(onB.bytes)).toBe(sha(onA.bytes));
      expect(sha(pixels(onB.bytes))).toBe(sha(pixels(originals.get(scan.sopInstanceUid)!)));
      const text = Buffer.from(onB.bytes).toString('latin1');
      for (const phi of ['NODES^DORA', 'TWO-NODE-1', '19610203', 'ACC-TWO', scan.sopInstanceUid]) {
        expect(text.includes(phi), phi).toBe(false);
      }
      for (const derived of ['thumbnail', 'preview']) {
        const res = await getBytes(b, `/api/scans/${scan.id}/${derived}`, reader.token);
        expect(res.status, derived).toBe(200);
      }
    }

    const scanId = job.scans[0]!.id;
    // Locked through node B (an empty reading is a valid consensus: the SR still names the study).
    const locked = await new Api(b.url, panel.moderator.token).call(
      'POST',
      `/api/sessions/${sessionId}/scans/${scanId}/lock`,
    );
    expect(locked.status).toBe(200);
    await waitForPush(adminB, sessionId, scanId, (p) => p?.state === 'sent');
    const sr = (await srInstances(source)).find((i) => i.studyInstanceUid === STUDY);
    expect(sr, 'the SR filed in the original study').toBeDefined();
    const dump = dsrdump(toFile(await pacsFile(source, sr!.sopInstanceUid), 'two-node-sr.dcm'));
    expect(dump).toContain(job.scans[0]!.sopInstanceUid);
    expect(dump).toContain('NODES^DORA');
  }, 120_000);

  it('R-IMG-3: the archive away: B answers 503 store_unavailable for a scan it has not cached, A refuses an upload with nothing stored; back, both work', async () => {
    const file = makeSyntheticChestDicom({
      rows: 120,
      columns: 100,
      seed: 300,
      sopInstanceUid: '2.25.7300001',
    });
    const uploaded = await uploadDicom(a, panel.admin.token, file);
    expect(uploaded.status).toBe(201);
    const scanId = String(uploaded.body.id);
    await archive.stop();
    try {
      const res = await getBytes(b, `/api/scans/${scanId}/dicom`, panel.admin.token);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(Buffer.from(res.bytes).toString()).error.code).toBe('store_unavailable');
      const thumb = await getBytes(b, `/api/scans/${scanId}/thumbnail`, panel.admin.token);
      expect(thumb.status).toBe(503);

      const rowsBefore = await scanFileRows();
      const refused = await uploadDicom(
        a,
        panel.admin.token,
        makeSyntheticChestDicom({ rows: 120, columns: 100, seed: 301, sopInstanceUid: '2.25.7300002' }),
      );
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('store_unavailable');
      expect(await scanFileRows()).toBe(rowsBefore);
    } finally {
      await archive.start();
    }
    const res = await getBytes(b, `/api/scans/${scanId}/dicom`, panel.admin.token);
    expect(res.status).toBe(200);
    expect(sha(res.bytes)).toBe(uploaded.body.sha256);
  }, 60_000);

  it('R-PACS-5: a node killed mid-job: the other node finishes the job once the lease runs out', async () => {
    // The source PACS hangs, so node A is inside the job (listing its study) when it is killed.
    source.freeze();
    const started = await adminA.call('POST', '/api/pacs/imports', {
      studyInstanceUids: [SLOW_STUDY],
      sessionId,
    });
    expect(started.status).toBe(202);
    const id = String(started.body.id);
    await waitForJob(adminA, id, (j) => j.state === 'running');
    await a.kill9();
    source.thaw();
    const job = await waitForJob(adminB, id, (j) => j.state === 'done', 40_000);
    expect(job).toMatchObject({ total: 3, done: 3, failed: 0 });
    const session = await adminB.call('GET', `/api/sessions/${sessionId}`);
    const inSession = (session.body as { scans: Array<{ scanId: string }> }).scans.map((s) => s.scanId);
    for (const scan of job.scans) expect(inSession).toContain(scan.id);
  }, 60_000);
});
