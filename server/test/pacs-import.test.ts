import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringElement, uiElement, writePart10 } from '../src/dicom/dicom-writer.js';
import { parseDicomBytes } from '../src/dicom/parse.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { TAG, parserKey } from '../src/dicom/tags.js';
import type { RunningServer } from '../src/main.js';
import { draw, lock } from './export-fixtures.js';
import { getBytes } from './helpers/dicom-ingest.js';
import { OrthancProcess } from './helpers/orthanc.js';
import { ADMIN, Api, type Panel, createPanel, startTestServer, tempDir } from './helpers/test-server.js';
import { dsrdump, pacsFile, srInstances, toFile, waitForPush } from './pacs-push-fixtures.js';

/**
 * Import from a real PACS (Orthanc with its DICOMweb plugin) holding identified chest X-rays:
 * the picker's query, durable import jobs with progress, instances that fail alone, the PACS
 * away and back, a restart that resumes, and the consensus SR going back filed with the
 * patient's original study. Small synthetic images (160 x 140): size is the benchmark's job.
 */
const pacs = new OrthancProcess('import-source');
const STUDY_A = '2.25.51000000001';
const STUDY_B = '2.25.52000000001';
const UNKNOWN_STUDY = '2.25.59999999999';
let server: RunningServer;
let panel: Panel;
let admin: Api;
let moderator: Api;
let sessionId: string;

function chest(
  i: number,
  study: string,
  patientId: string,
  patientName: string,
  accession: string,
): Uint8Array {
  return makeSyntheticChestDicom({
    rows: 160,
    columns: 140,
    seed: 70 + i,
    patientId,
    patientName,
    patientBirthDate: '19700101',
    studyInstanceUid: study,
    seriesInstanceUid: `${study}.1`,
    sopInstanceUid: `${study}.1.${i}`,
    extraElements: [
      stringElement(TAG.StudyDate, 'DA', '20240315'),
      stringElement(TAG.AccessionNumber, 'SH', accession),
    ],
  });
}

/** An instance Orthanc files but our import refuses: a DX object without pixel data. */
function withoutPixels(study: string): Uint8Array {
  const sop = `${study}.1.99`;
  const dx = '1.2.840.10008.5.1.4.1.1.1.1';
  return writePart10({ sopClassUid: dx, sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' }, [
    uiElement(TAG.SOPClassUID, dx),
    uiElement(TAG.SOPInstanceUID, sop),
    stringElement(TAG.Modality, 'CS', 'DX'),
    stringElement(TAG.PatientName, 'PN', 'IMPORT^BOB'),
    stringElement(TAG.PatientID, 'LO', 'IMP-2'),
    uiElement(TAG.StudyInstanceUID, study),
    uiElement(TAG.SeriesInstanceUID, `${study}.1`),
  ]);
}

interface JobView {
  id: string;
  state: string;
  total: number;
  done: number;
  failed: number;
  attempts: number;
  lastError: string | null;
  scans: Array<{ id: string; sopInstanceUid: string }>;
  errors: Array<{ studyInstanceUid: string; sopInstanceUid: string | null; code: string; message: string }>;
}

async function waitForJob(api: Api, id: string, until: (job: JobView) => boolean): Promise<JobView> {
  let last: JobView | undefined;
  await expect
    .poll(
      async () => {
        const res = await api.call('GET', `/api/pacs/imports/${id}`);
        expect(res.status).toBe(200);
        last = res.body as unknown as JobView;
        return until(last);
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(true)
    .catch((error: unknown) => {
      throw new Error(`the import job never got there; last seen: ${JSON.stringify(last)}`, { cause: error });
    });
  return last!;
}

const countJobs = async (s: RunningServer) =>
  Number(
    (
      await s.stores.db.kysely
        .selectFrom('pacs_imports')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  await pacs.start();
  await pacs.upload(chest(1, STUDY_A, 'IMP-1', 'IMPORT^ALICE', 'ACC-A'));
  await pacs.upload(chest(2, STUDY_A, 'IMP-1', 'IMPORT^ALICE', 'ACC-A'));
  await pacs.upload(chest(3, STUDY_B, 'IMP-2', 'IMPORT^BOB', 'ACC-B'));
  await pacs.upload(withoutPixels(STUDY_B));
  server = await startTestServer({
    PACS_URL: pacs.dicomWebUrl,
    PACS_PUSH_RETRY_MS: '100',
    DICOMWEB_TIMEOUT_MS: '3000',
  });
  panel = await createPanel(server, { readers: 1, scans: [{ rows: 64, columns: 64 }] });
  admin = panel.api.as(panel.admin.token);
  moderator = panel.api.as(panel.moderator.token);
  const session = await admin.call('POST', '/api/sessions', {
    name: 'from the PACS',
    moderatorId: panel.moderator.id,
    readerIds: [panel.readers[0]!.id],
    scanIds: [panel.scanIds[0]!],
  });
  expect(session.status).toBe(201);
  sessionId = String(session.body.id);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await pacs.stop();
});

describe('import from a real PACS', () => {
  it('R-PACS-1, R-PACS-2: the picker’s query answers what the PACS holds, patient included; bad queries are refused', async () => {
    const res = await moderator.call('GET', '/api/pacs/studies?PatientID=IMP-1');
    expect(res.status).toBe(200);
    const studies = (res.body as { studies: Array<Record<string, unknown>> }).studies;
    expect(studies).toEqual([
      expect.objectContaining({
        studyInstanceUid: STUDY_A,
        studyDate: '20240315',
        accessionNumber: 'ACC-A',
        patientId: 'IMP-1',
        patientName: 'IMPORT^ALICE',
        modalities: ['DX'],
        instances: 2,
      }),
    ]);
    const byAccession = await moderator.call('GET', '/api/pacs/studies?AccessionNumber=ACC-B&limit=5');
    expect((byAccession.body as { studies: unknown[] }).studies).toHaveLength(1);
    const none = await moderator.call('GET', '/api/pacs/studies?PatientID=NOBODY');
    expect(none.body).toEqual({ studies: [] });
    // Bad inputs: a malformed date, an unknown key, a limit out of range, a modality list.
    for (const q of [
      'StudyDate=March',
      'PatientName=X',
      'limit=0',
      'limit=1000',
      'ModalitiesInStudy=DX,CR',
    ]) {
      const bad = await moderator.call('GET', `/api/pacs/studies?${q}`);
      expect(bad.status, q).toBe(400);
      expect((bad.body as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    const reader = panel.api.as(panel.readers[0]!.token);
    expect((await reader.call('GET', '/api/pacs/studies')).status).toBe(403);
  });

  it('R-PACS-3, R-PACS-4, R-PACS-5: a job imports whole studies into the session; an instance or study that fails does so alone', async () => {
    const started = await moderator.call('POST', '/api/pacs/imports', {
      studyInstanceUids: [STUDY_A, STUDY_B, UNKNOWN_STUDY],
      sessionId,
    });
    expect(started.status).toBe(202);
    const id = String(started.body.id);
    const job = await waitForJob(moderator, id, (j) => j.state === 'done');
    expect(job).toMatchObject({ total: 5, done: 3, failed: 2 });
    expect(job.scans.map((s) => s.sopInstanceUid).sort()).toEqual(
      [`${STUDY_A}.1.1`, `${STUDY_A}.1.2`, `${STUDY_B}.1.3`].sort(),
    );
    expect(job.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ studyInstanceUid: STUDY_B, sopInstanceUid: `${STUDY_B}.1.99` }),
        expect.objectContaining({ studyInstanceUid: UNKNOWN_STUDY, sopInstanceUid: null, code: 'not_found' }),
      ]),
    );
    expect(job.errors.find((e) => e.sopInstanceUid === `${STUDY_B}.1.99`)?.code).toMatch(/^dicom_/);

    // The scans are at the end of the session's worklist, after the one it had.
    const session = await moderator.call('GET', `/api/sessions/${sessionId}`);
    const scanIds = (session.body as { scans: Array<{ scanId: string }> }).scans.map((s) => s.scanId);
    expect(scanIds[0]).toBe(panel.scanIds[0]);
    expect(new Set(scanIds.slice(1))).toEqual(new Set(job.scans.map((s) => s.id)));

    // The served copy is de-identified: no name, id or birth date of the patient anywhere in it.
    for (const scan of job.scans) {
      const file = await getBytes(server, `/api/scans/${scan.id}/dicom`, panel.readers[0]!.token);
      expect(file.status).toBe(200);
      const text = Buffer.from(file.bytes).toString('latin1');
      for (const phi of ['IMPORT^ALICE', 'IMPORT^BOB', 'IMP-1', 'IMP-2', '19700101', 'ACC-A', 'ACC-B']) {
        expect(text.includes(phi), phi).toBe(false);
      }
      const parsed = parseDicomBytes(file.bytes);
      expect(parsed.ok).toBe(true);
      if (parsed.ok)
        expect(parsed.value.dataSet.string(parserKey(TAG.SOPInstanceUID))).not.toBe(scan.sopInstanceUid);
    }

    // The same studies again: the same scans (content addressing), nothing new in the session.
    const again = await moderator.call('POST', '/api/pacs/imports', {
      studyInstanceUids: [STUDY_A],
      sessionId,
    });
    const second = await waitForJob(moderator, String(again.body.id), (j) => j.state === 'done');
    expect(second.scans.map((s) => s.id).sort()).toEqual(
      job.scans
        .filter((s) => s.sopInstanceUid.startsWith(STUDY_A))
        .map((s) => s.id)
        .sort(),
    );
    const after = await moderator.call('GET', `/api/sessions/${sessionId}`);
    expect((after.body as { scans: unknown[] }).scans).toHaveLength(scanIds.length);
  });

  it('R-PACS-6, R-PUSH-4: a locked PACS scan’s SR goes back with the original study, series, instance and patient', async () => {
    const started = await moderator.call('POST', '/api/pacs/imports', {
      studyInstanceUids: [STUDY_A],
      sessionId,
    });
    const job = await waitForJob(moderator, String(started.body.id), (j) => j.state === 'done');
    const scan = job.scans.find((s) => s.sopInstanceUid === `${STUDY_A}.1.1`)!;
    await draw(server, sessionId, scan.id, panel.readers[0]!, {
      findings: [{ id: 'p', labels: ['Nodule/Mass'], box: [10, 20, 60, 70] }],
      globals: ['Lung tumor'],
    });
    await lock(panel, sessionId, scan.id);
    await waitForPush(admin, sessionId, scan.id, (p) => p?.state === 'sent');
    const sr = (await srInstances(pacs)).find((i) => i.studyInstanceUid === STUDY_A);
    expect(sr, 'an SR filed in the original study').toBeDefined();
    const dump = dsrdump(toFile(await pacsFile(pacs, sr!.sopInstanceUid), 'sr.dcm'));
    expect(dump).toContain(`${STUDY_A}.1.1`);
    expect(dump).toContain('IMPORT^ALICE');
    // No API answers the original identity: the scan, session and job views carry none of it.
    const views = [
      await moderator.call('GET', `/api/sessions/${sessionId}`),
      await moderator.call('GET', `/api/sessions/${sessionId}/scans/${scan.id}/consensus`),
    ];
    for (const view of views) expect(JSON.stringify(view.body)).not.toContain('IMPORT^ALICE');
  });

  it('R-PACS-3: bad import requests are refused with a code and store no job', async () => {
    const before = await countJobs(server);
    const bad: Array<[unknown, number, string]> = [
      [{ studyInstanceUids: [] }, 400, 'validation_failed'],
      [{ studyInstanceUids: ['not-a-uid'] }, 400, 'validation_failed'],
      [{ studyInstanceUids: ['1.2.3'], extra: true }, 400, 'validation_failed'],
      [{ studyInstanceUids: Array.from({ length: 101 }, (_, i) => `1.2.${i}`) }, 400, 'validation_failed'],
      [{ studyInstanceUids: [`1.${'2'.repeat(70)}`] }, 400, 'validation_failed'],
      [{ studyInstanceUids: ['1.2.3'], sessionId: 'no-such-session' }, 404, 'not_found'],
      ['{"studyInstanceUids": [', 400, 'bad_request'],
    ];
    for (const [body, status, code] of bad) {
      const res = await moderator.call('POST', '/api/pacs/imports', body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect((res.body as { error: { code: string } }).error.code).toBe(code);
    }
    // Another moderator's session, and a reader at all.
    const other = await createPanel(server, { readers: 1 });
    const foreign = await other.api
      .as(other.moderator.token)
      .call('POST', '/api/pacs/imports', { studyInstanceUids: [STUDY_A], sessionId });
    expect(foreign.status).toBe(403);
    const reader = panel.api.as(panel.readers[0]!.token);
    expect((await reader.call('POST', '/api/pacs/imports', { studyInstanceUids: [STUDY_A] })).status).toBe(
      403,
    );
    expect(await countJobs(server)).toBe(before);
    // Someone else's job is not found, not forbidden.
    const mine = await moderator.call('POST', '/api/pacs/imports', { studyInstanceUids: [STUDY_B] });
    const peek = await other.api.as(other.moderator.token).call('GET', `/api/pacs/imports/${mine.body.id}`);
    expect(peek.status).toBe(404);
    await waitForJob(moderator, String(mine.body.id), (j) => j.state === 'done');
  });

  it('R-PACS-5: with the PACS down the query answers 503 and a job waits, then finishes once the PACS is back', async () => {
    await pacs.stop();
    let back = false;
    try {
      const query = await moderator.call('GET', '/api/pacs/studies?PatientID=IMP-1');
      expect(query.status).toBe(503);
      expect((query.body as { error: { code: string } }).error.code).toBe('pacs_unavailable');
      const started = await moderator.call('POST', '/api/pacs/imports', { studyInstanceUids: [STUDY_B] });
      expect(started.status).toBe(202);
      const waiting = await waitForJob(moderator, String(started.body.id), (j) => j.attempts >= 2);
      expect(waiting.state).toBe('running');
      expect(waiting.lastError).toMatch(/^pacs_unavailable/);
      expect(waiting.total).toBe(0);
      await pacs.start();
      back = true;
      const job = await waitForJob(moderator, String(started.body.id), (j) => j.state === 'done');
      expect(job).toMatchObject({ total: 2, done: 1, failed: 1 });
    } finally {
      if (!back) await pacs.start();
    }
  });
});

describe('PACS import across a restart and an image archive that goes away', () => {
  it('R-PACS-5: a job postponed on one server is finished by the next on the same data; the archive away stores nothing half', async () => {
    const archive = new OrthancProcess('import-archive');
    await archive.start();
    // A study of its own: the earlier tests' SR push filed an SR in study A.
    const studyC = '2.25.53000000001';
    await pacs.upload(chest(4, studyC, 'IMP-3', 'IMPORT^CAROL', 'ACC-C'));
    await pacs.upload(chest(5, studyC, 'IMP-3', 'IMPORT^CAROL', 'ACC-C'));
    const dataDir = tempDir();
    const env = {
      DATA_DIR: dataDir,
      PACS_URL: pacs.dicomWebUrl,
      IMAGE_STORE: 'dicomweb',
      IMAGE_STORE_URL: archive.dicomWebUrl,
      DICOM_UID_KEY: 'ab'.repeat(32),
      PACS_PUSH_RETRY_MS: '100',
      DICOMWEB_TIMEOUT_MS: '3000',
    };
    await archive.stop();
    let first: RunningServer | undefined = await startTestServer(env);
    let second: RunningServer | undefined;
    try {
      const firstPanel = await createPanel(first);
      const api = firstPanel.api.as(firstPanel.admin.token);
      const started = await api.call('POST', '/api/pacs/imports', { studyInstanceUids: [studyC] });
      expect(started.status).toBe(202);
      const id = String(started.body.id);
      // Listed, but every instance waits: the archive does not take it.
      const waiting = await waitForJob(api, id, (j) => j.total === 2 && j.attempts >= 1);
      expect(waiting).toMatchObject({ state: 'running', done: 0, failed: 0 });
      expect(waiting.lastError).toMatch(/^store_unavailable/);
      expect(await first.stores.scanFiles.count()).toBe(0);
      await first.close();
      first = undefined;

      await archive.start();
      second = await startTestServer(env);
      const secondApi = new Api(second.url);
      const login = await secondApi.login(ADMIN.username, ADMIN.password);
      const job = await waitForJob(secondApi.as(login.token), id, (j) => j.state === 'done');
      expect(job).toMatchObject({ total: 2, done: 2, failed: 0 });
      expect(await second.stores.scanFiles.count()).toBe(2);
      const stored = (await archive.rest('/instances')) as string[];
      expect(stored).toHaveLength(2);
    } finally {
      await first?.close();
      await second?.close();
      await archive.stop();
    }
  }, 60_000);
});
