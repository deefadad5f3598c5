import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/demo.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { MAX_IMPORT_FILE_BYTES } from '../src/dicom/import-service.js';
import { getBytes } from './helpers/dicom-ingest.js';
import { ADMIN, Api, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * The CLI import (a real child process: `node --import tsx server/src/cli.ts import <dir>`) and
 * the demo seed both go through the import service: same de-identification, same storage, so
 * the server started afterwards on the same data directory serves what they imported.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function cliImport(dataDir: string, args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', 'import', ...args], {
    cwd: ROOT,
    env: { ...childEnv(), DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The test's environment minus database settings: the CLI must use the data directory's SQLite. */
function childEnv(): Record<string, string | undefined> {
  const { DATABASE_URL: _url, DATABASE_SCHEMA: _schema, ...rest } = process.env;
  return rest;
}

describe('cxr import <folder>', () => {
  it('walks folders, reports imported / duplicates / rejected with reasons, exits 1 on rejects', async () => {
    const input = tempDir('cxr-import-in-');
    const dataDir = tempDir('cxr-import-data-');
    dirs.push(input, dataDir);
    const a = makeSyntheticChestDicom({ rows: 40, columns: 36, seed: 1, sopInstanceUid: '2.25.9001' });
    const b = makeSyntheticChestDicom({
      rows: 40,
      columns: 36,
      seed: 2,
      sopInstanceUid: null,
      transferSyntax: '1.2.840.10008.1.2.5',
    });
    fs.mkdirSync(path.join(input, 'nested', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(input, 'a.dcm'), a);
    fs.writeFileSync(path.join(input, 'nested', 'copy-of-a.dcm'), a);
    fs.writeFileSync(path.join(input, 'nested', 'deeper', 'vindr-style-id.dicom'), b);
    fs.writeFileSync(path.join(input, 'README.txt'), 'not a DICOM file');
    fs.writeFileSync(path.join(input, 'truncated.dcm'), a.subarray(0, 200));
    fs.writeFileSync(path.join(input, '.DS_Store'), 'hidden files are skipped');
    // Larger than any acceptable image: refused by its size, before a byte is read (sparse here).
    fs.closeSync(fs.openSync(path.join(input, 'huge.dcm'), 'w'));
    fs.truncateSync(path.join(input, 'huge.dcm'), MAX_IMPORT_FILE_BYTES + 1);

    const first = cliImport(dataDir, [input]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stdout).toContain('imported: 2');
    expect(first.stdout).toContain('duplicates: 1');
    expect(first.stdout).toContain('rejected: 3');
    expect(first.stdout).toMatch(/README\.txt: dicom_not_dicom: /);
    expect(first.stdout).toMatch(/huge\.dcm: dicom_too_large: /);
    expect(first.stdout).toMatch(/truncated\.dcm: dicom_truncated: /);
    expect(first.stdout).not.toContain('.DS_Store');

    const json = cliImport(dataDir, ['--json', path.join(input, 'a.dcm'), path.join(input, 'nested')]);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout) as {
      imported: string[];
      duplicates: string[];
      rejected: unknown[];
    };
    expect(summary).toMatchObject({ imported: [], rejected: [] });
    expect(summary.duplicates).toHaveLength(3);

    // The server on the same data directory serves what the CLI imported.
    const server = await startTestServer({ DATA_DIR: dataDir });
    try {
      const admin = (await new Api(server.url).login(ADMIN.username, ADMIN.password)).token;
      expect((await getBytes(server, '/api/scans/vindr-style-id/dicom', admin)).status).toBe(200);
      expect(await server.stores.scanFiles.count()).toBe(2);
    } finally {
      await server.close();
    }

    const missing = cliImport(dataDir, [path.join(input, 'no-such-file.dcm')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/no-such-file\.dcm: unreadable: /);
  });
});

describe('cxr import --concurrency', () => {
  it('R-INGEST-STORE-4: imports several files at once: racing copies of one file are one scan; the summary keeps walk order', () => {
    const input = tempDir('cxr-import-many-');
    const dataDir = tempDir('cxr-import-many-data-');
    dirs.push(input, dataDir);
    const same = makeSyntheticChestDicom({ rows: 40, columns: 36, seed: 3, sopInstanceUid: '2.25.9100' });
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(input, `same-${i}.dcm`), same);
    for (let i = 0; i < 6; i++) {
      const other = makeSyntheticChestDicom({
        rows: 40,
        columns: 36,
        seed: 10 + i,
        sopInstanceUid: `2.25.92${i}`,
      });
      fs.writeFileSync(path.join(input, `other-${i}.dcm`), other);
    }
    const run = cliImport(dataDir, ['--json', '--concurrency', '4', input]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      imported: string[];
      duplicates: string[];
      rejected: unknown[];
    };
    expect(summary.rejected).toEqual([]);
    expect(summary.imported).toHaveLength(7);
    expect(summary.duplicates).toHaveLength(5);
    // Which copy wins the race varies; the lists stay in walk (name) order whatever finished first.
    const imported = summary.imported.map((f) => path.basename(f));
    const duplicates = summary.duplicates.map((f) => path.basename(f));
    expect(imported.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `other-${i}.dcm`));
    expect([...imported.slice(6), ...duplicates].sort()).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `same-${i}.dcm`),
    );
    expect(duplicates).toEqual([...duplicates].sort());

    // Bad values are refused before anything is imported.
    for (const bad of ['0', '-1', 'two', '1.5', '65']) {
      const refused = cliImport(tempDir('cxr-import-bad-'), ['--concurrency', bad, input]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('expected a whole number from 1 to 64');
    }
  });
});

describe('demo seed', () => {
  it('generates the synthetic files once, imports them, and is idempotent', async () => {
    const server = await startTestServer();
    const lines: string[] = [];
    const options = {
      dataDir: server.config.dataDir,
      importer: server.dicom.importer,
      say: (line: string) => lines.push(line),
      size: { rows: 60, columns: 56 },
    };
    try {
      const log = pino({ level: 'silent' });
      await seedDemo(server.stores, log, options);
      expect(lines).toHaveLength(3);
      expect(await server.stores.scanFiles.count()).toBe(3);
      const files = ['demo-cxr-001', 'demo-cxr-002', 'demo-cxr-003'].map((id) =>
        server.stores.scanFiles.get(id),
      );
      expect((await Promise.all(files)).map((f) => [f?.photometric, f?.transferSyntaxUid])).toEqual([
        ['MONOCHROME2', '1.2.840.10008.1.2.1'],
        ['MONOCHROME1', '1.2.840.10008.1.2.1'],
        ['MONOCHROME2', '1.2.840.10008.1.2.5'],
      ]);
      await seedDemo(server.stores, log, options);
      expect(lines).toHaveLength(3); // cached: nothing generated again
      expect(await server.stores.scanFiles.count()).toBe(3);
      const reader = (await new Api(server.url).login('reader1', 'reader-demo-1')).token;
      expect((await getBytes(server, '/api/scans/demo-cxr-002/thumbnail', reader)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
