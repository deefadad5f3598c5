import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { OrthancProcess } from './helpers/orthanc.js';
import { ADMIN, Api, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * `cxr import --pacs --study <UID>... [--session <id>]` (R-PACS-7) as a real child process
 * against a real Orthanc: the same job as the API's, and a server started on the same data
 * directory serves what it imported, in the session it named.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pacs = new OrthancProcess('cli-source');
const STUDY = '2.25.61000000001';

function cli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DATABASE_URL: _url, DATABASE_SCHEMA: _schema, ...rest } = process.env;
  return new Promise((resolve) => {
    // Not spawnSync: the child talks to the Orthanc this process started, which must keep serving.
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', 'import', ...args], {
      cwd: ROOT,
      env: { ...rest, LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  await pacs.start();
  for (const i of [1, 2]) {
    await pacs.upload(
      makeSyntheticChestDicom({
        rows: 80,
        columns: 70,
        seed: 90 + i,
        patientId: 'CLI-1',
        patientName: 'CLI^PATIENT',
        studyInstanceUid: STUDY,
        seriesInstanceUid: `${STUDY}.1`,
        sopInstanceUid: `${STUDY}.1.${i}`,
      }),
    );
  }
}, 30_000);

afterAll(async () => {
  await pacs.stop();
});

describe('cxr import --pacs', () => {
  it('R-PACS-7: imports the study into a session; a server on the same data serves it there', async () => {
    const dataDir = tempDir();
    // A session to import into, made by a server that then stops.
    const first = await startTestServer({ DATA_DIR: dataDir });
    const api = new Api(first.url);
    const login = await api.login(ADMIN.username, ADMIN.password);
    const admin = api.as(login.token);
    const session = await admin.call('POST', '/api/sessions', {
      name: 'cli',
      moderatorId: login.id,
      readerIds: [],
      scanIds: [],
    });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    await first.close();

    const run = await cli({ DATA_DIR: dataDir, PACS_URL: pacs.dicomWebUrl }, [
      '--pacs',
      '--study',
      STUDY,
      '--session',
      String(session.body.id),
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as {
      state: string;
      done: number;
      failed: number;
      scans: Array<{ id: string }>;
    };
    expect(view).toMatchObject({ state: 'done', done: 2, failed: 0 });

    const second = await startTestServer({ DATA_DIR: dataDir });
    try {
      const api2 = new Api(second.url);
      const admin2 = api2.as((await api2.login(ADMIN.username, ADMIN.password)).token);
      const got = await admin2.call('GET', `/api/sessions/${session.body.id}`);
      expect((got.body as { scans: Array<{ scanId: string }> }).scans.map((s) => s.scanId).sort()).toEqual(
        view.scans.map((s) => s.id).sort(),
      );
    } finally {
      await second.close();
    }
  }, 60_000);

  it('R-PACS-7: refuses with exit 2 and a message: no PACS_URL, no study, a non-UID, files with --pacs, an unknown session', async () => {
    const dataDir = tempDir();
    const cases: Array<[Record<string, string>, string[], RegExp]> = [
      [{}, ['--pacs', '--study', STUDY], /PACS_URL/],
      [{ PACS_URL: pacs.dicomWebUrl }, ['--pacs'], /at least one study/],
      [{ PACS_URL: pacs.dicomWebUrl }, ['--pacs', '--study', 'abc'], /not a DICOM UID/],
      [{ PACS_URL: pacs.dicomWebUrl }, ['some.dcm', '--pacs', '--study', STUDY], /not files/],
      [{ PACS_URL: pacs.dicomWebUrl }, ['--pacs', '--study', STUDY, '--session', 'nope'], /no session nope/],
      [{ PACS_URL: pacs.dicomWebUrl }, ['--study', STUDY], /go with --pacs/],
    ];
    for (const [env, args, message] of cases) {
      const run = await cli({ DATA_DIR: dataDir, ...env }, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  }, 90_000);
});
