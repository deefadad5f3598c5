import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Finding, putFinding } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { openStores } from '../src/db/stores.js';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import { ServerProcess } from './helpers/server-process.js';
import { ADMIN, Api, createPanel, freePort, tempDir } from './helpers/test-server.js';
import { TestClient, docJson, until } from './helpers/yjs-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs the real CLI as a child process. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'server/src/cli.ts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function dicom(seed: number): Uint8Array {
  return makeSyntheticChest({
    rows: 64,
    columns: 60,
    seed,
    sopInstanceUid: `1.2.826.0.1.3680043.2.1125.88.${process.pid}.${seed}`,
  }).bytes;
}

function finding(id: string, by: string, x: number): Finding {
  return {
    id,
    labels: ['Nodule/Mass'],
    box: { x_min: x, y_min: 10, x_max: x + 40, y_max: 60 },
    createdBy: by,
    updatedBy: by,
    updatedAt: 1,
  };
}

/** Persisted batches so far (R-OPS-1's histogram count): the edit is in the database. */
async function persistedBatches(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('cxr_persist_duration_seconds_count'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * R-OPS-5, R-OPS-6: a backup taken while the server runs restores to exactly the state at
 * backup time (users, a Yjs edit, a DICOM file); what changed afterwards is not in it.
 */
describe('backup and restore (SQLite)', () => {
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const s of servers) await s.stop();
  });

  it('R-OPS-5 R-OPS-6: restores users, documents and DICOM files as they were at backup time', async () => {
    const dataA = tempDir('cxr-backup-a-');
    const first = new ServerProcess(await freePort(), { DATA_DIR: dataA, ROOM_IDLE_UNLOAD_MS: '50' });
    servers.push(first);
    await first.start();

    const panel = await createPanel(first, { readers: 1 });
    const scanId = panel.scanIds[0]!;
    const reader = panel.readers[0]!;
    const upload = await uploadDicom(first, panel.admin.token, dicom(1));
    expect(upload.status).toBe(201);
    const dicomId = String(upload.body.id);
    const original = await getBytes(first, `/api/scans/${dicomId}/dicom`, panel.admin.token);
    expect(original.status).toBe(200);

    const writer = new TestClient(first.url, panel.sessionId, scanId, reader.token);
    clients.push(writer);
    await until(() => writer.synced, 5000, 'yjs sync');
    const before = await persistedBatches(first.url);
    putFinding(writer.doc, finding('f-before', reader.id, 10));
    for (let i = 0; (await persistedBatches(first.url)) <= before; i++) {
      if (i > 500) throw new Error('the edit was never stored');
      await new Promise((r) => setTimeout(r, 10));
    }
    const atBackup = docJson(writer.doc);

    // The backup runs while the server is up and serving.
    const backupDir = path.join(tempDir('cxr-backup-out-'), 'b1');
    const backup = await cli(['backup', backupDir], { DATA_DIR: dataA });
    expect(backup.out).toContain('backed up');
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')) as {
      files: Array<{ path: string; mode: number }>;
    };
    const listed = manifest.files.map((f) => f.path);
    expect(listed).toContain('cxr.sqlite');
    expect(listed).toContain('token-secret');
    expect(listed).toContain('dicom-uid-key');
    expect(listed.filter((p) => p.startsWith('dicom/'))).toHaveLength(1);
    for (const secret of ['token-secret', 'dicom-uid-key']) {
      expect(fs.statSync(path.join(backupDir, secret)).mode & 0o777).toBe(0o600);
    }

    // Changes after the backup: a user, another edit, another DICOM file.
    const api = new Api(first.url);
    const adminApi = api.as(panel.admin.token);
    expect(
      (
        await adminApi.call('POST', '/api/users', {
          username: 'late-user',
          password: 'late-user-pw-1',
          role: 'reader',
        })
      ).status,
    ).toBe(201);
    putFinding(writer.doc, finding('f-after', reader.id, 200));
    const late = await uploadDicom(first, panel.admin.token, dicom(2));
    expect(late.status).toBe(201);
    // SIGTERM stores every accepted update (R-OPS-4), so the second edit is in dataA, not in the backup.
    writer.destroy();
    expect(await first.stop()).toBe(0);

    // Restore into a fresh data directory and serve from it.
    const dataB = path.join(tempDir('cxr-backup-b-'), 'data');
    const restored = await cli(['restore', backupDir], { DATA_DIR: dataB });
    expect(restored.out).toContain('restored');
    expect(restored.code).toBe(0);
    expect(fs.statSync(path.join(dataB, 'token-secret')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataB, 'dicom-uid-key')).mode & 0o777).toBe(0o600);
    const second = new ServerProcess(await freePort(), { DATA_DIR: dataB });
    servers.push(second);
    await second.start();

    const api2 = new Api(second.url);
    // Users log in; tokens issued before the backup still verify (same signing key).
    await api2.login(reader.username, `${reader.username}-password`);
    await api2.login(panel.moderator.username, `${panel.moderator.username}-password`);
    expect((await api2.as(reader.token).call('GET', '/api/me')).status).toBe(200);
    expect(
      (await api2.call('POST', '/api/auth/login', { username: 'late-user', password: 'late-user-pw-1' }))
        .status,
    ).toBe(401);
    await api2.login(ADMIN.username, ADMIN.password);

    const reader2 = new TestClient(second.url, panel.sessionId, scanId, reader.token);
    clients.push(reader2);
    await until(() => reader2.synced, 5000, 'yjs sync after restore');
    expect(docJson(reader2.doc)).toEqual(atBackup);

    const served = await getBytes(second, `/api/scans/${dicomId}/dicom`, panel.admin.token);
    expect(served.status).toBe(200);
    expect(sha256(served.bytes)).toBe(sha256(original.bytes));
    expect(
      (await getBytes(second, `/api/scans/${String(late.body.id)}/dicom`, panel.admin.token)).status,
    ).toBe(404);
  }, 60_000);

  it('R-OPS-6: restore refuses a non-empty target, a tampered backup and PostgreSQL; backup refuses PostgreSQL', async () => {
    // Bad inputs tried: a target with a file in it (without --force), a backup whose DICOM file
    // was changed after it was made, a directory with no manifest, DATABASE_URL set.
    const dataA = tempDir('cxr-backup-c-');
    const node = new ServerProcess(await freePort(), { DATA_DIR: dataA });
    servers.push(node);
    await node.start();
    const admin = await new Api(node.url).login(ADMIN.username, ADMIN.password);
    expect((await uploadDicom(node, admin.token, dicom(3))).status).toBe(201);
    const backupDir = path.join(tempDir('cxr-backup-out-'), 'b2');
    expect((await cli(['backup', backupDir], { DATA_DIR: dataA })).code).toBe(0);
    expect(await node.stop()).toBe(0);

    const occupied = tempDir('cxr-backup-occupied-');
    fs.writeFileSync(path.join(occupied, 'keep.txt'), 'operator notes');
    const refused = await cli(['restore', backupDir], { DATA_DIR: occupied });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('not empty');
    expect(fs.readdirSync(occupied)).toEqual(['keep.txt']);

    const forced = await cli(['restore', backupDir, '--force'], { DATA_DIR: occupied });
    expect(forced.code).toBe(0);
    expect(fs.existsSync(path.join(occupied, 'cxr.sqlite'))).toBe(true);
    const kept = /kept in (\S+)/.exec(forced.out)?.[1];
    expect(kept && fs.readFileSync(path.join(kept, 'keep.txt'), 'utf8')).toBe('operator notes');

    const stored = fs.readdirSync(path.join(backupDir, 'dicom'), { recursive: true, encoding: 'utf8' });
    const file = stored.map((p) => path.join(backupDir, 'dicom', p)).find((p) => fs.statSync(p).isFile())!;
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1]! + 1) % 256;
    fs.writeFileSync(file, bytes);
    const fresh = path.join(tempDir('cxr-backup-d-'), 'data');
    const tampered = await cli(['restore', backupDir], { DATA_DIR: fresh });
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain('does not match its SHA-256');
    expect(fs.existsSync(fresh)).toBe(false);

    const notBackup = await cli(['restore', tempDir()], { DATA_DIR: fresh });
    expect(notBackup.code).toBe(1);
    expect(notBackup.out).toContain('not a backup');

    const pg = { DATA_DIR: fresh, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
    for (const args of [
      ['backup', path.join(tempDir(), 'x')],
      ['restore', backupDir],
    ]) {
      const answer = await cli(args, pg);
      expect(answer.code).toBe(2);
      expect(answer.out).toContain('pg_dump');
    }
  }, 60_000);
  it('R-OPS-5: with IMAGE_STORE=dicomweb a backup says the images are in the archive, and its manifest records where', async () => {
    const data = tempDir('cxr-backup-archive-');
    const stores = await openStores({ sqliteFile: path.join(data, 'cxr.sqlite') });
    await stores.db.close();
    const out = path.join(tempDir('cxr-backup-out-'), 'b3');
    const env = {
      DATA_DIR: data,
      IMAGE_STORE: 'dicomweb',
      IMAGE_STORE_URL: 'http://archive.example:8042/dicom-web',
      DICOM_UID_KEY: 'ef'.repeat(32),
    };
    const run = await cli(['backup', out], env);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('the images are in the archive at http://archive.example:8042/dicom-web');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.images).toEqual({ store: 'dicomweb', url: 'http://archive.example:8042/dicom-web' });
    expect(manifest.files.some((f: { path: string }) => f.path.startsWith('dicom'))).toBe(false);
  }, 60_000);
});
