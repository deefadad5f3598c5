import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Config } from '../config.js';

/**
 * `cxr backup <dir>` and `cxr restore <dir>` for the SQLite back end (R-OPS-5, R-OPS-6).
 *
 * A backup is a directory: `cxr.sqlite` (SQLite's online backup: a consistent copy while the
 * server keeps writing), the stored DICOM files under `dicom/`, thumbnails only on request (they
 * are rendered again on demand), the owner-only secrets `token-secret` and `dicom-uid-key`, and
 * `manifest.json` with each file's size, SHA-256 and mode.
 */

export const SQLITE_FILE = 'cxr.sqlite';
const SECRETS = ['token-secret', 'dicom-uid-key'] as const;
const MANIFEST = 'manifest.json';
const FORMAT = 'cxr-consensus-backup';

const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  createdAt: z.string(),
  /**
   * Where the images were (R-OPS-5): `local` ones are in `files`; with `dicomweb` they are in
   * the archive at `url`, which must be backed up on its own. Absent in older backups (local).
   */
  images: z
    .union([
      z.object({ store: z.literal('local') }),
      z.object({ store: z.literal('dicomweb'), url: z.string() }),
    ])
    .optional(),
  files: z.array(
    z.object({
      // Relative, forward slashes, no `..`: a manifest must not write outside the data directory.
      path: z
        .string()
        .min(1)
        .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/),
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      mode: z.number().int().min(0).max(0o777),
    }),
  ),
});
export type BackupManifest = z.infer<typeof ManifestSchema>;

export class BackupError extends Error {}

export const POSTGRES_REFUSAL =
  'backup and restore cover the SQLite back end only; with DATABASE_URL (PostgreSQL) use pg_dump / ' +
  'pg_restore and copy the DATA_DIR files as README.md "Backup and restore" describes';

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under `dir` (relative paths, `/`-separated), skipping `.tmp` spool folders. */
function filesUnder(dir: string, prefix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    // Half-written uploads and renders live in `.tmp`; they are not part of the state.
    if (entry.name === '.tmp') continue;
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function isEmptyDir(dir: string): boolean {
  return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
}

/** A sibling of `target` (same file system, so the final rename is atomic). */
function stagingFor(target: string, tag: string): string {
  return `${path.resolve(target)}.${tag}-${randomBytes(4).toString('hex')}`;
}

export interface BackupResult {
  readonly dir: string;
  readonly manifest: BackupManifest;
}

export async function runBackup(
  dataDir: string,
  outDir: string,
  options: { thumbnails?: boolean; archiveUrl?: string | undefined } = {},
): Promise<BackupResult> {
  const dbFile = path.join(dataDir, SQLITE_FILE);
  if (!fs.existsSync(dbFile)) throw new BackupError(`no database at ${dbFile}`);
  if (!isEmptyDir(outDir)) throw new BackupError(`${outDir} is not empty; give an empty or new directory`);
  const staging = stagingFor(outDir, 'partial');
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    // The database first: a DICOM file is stored before its row, so every file the snapshot
    // references is already on disk when the files are copied below (later ones are harmless).
    const source = new SQLite(dbFile, { readonly: true, fileMustExist: true });
    try {
      await source.backup(path.join(staging, SQLITE_FILE));
    } finally {
      source.close();
    }
    fs.chmodSync(path.join(staging, SQLITE_FILE), 0o600);
    const copied = [
      ...filesUnder(path.join(dataDir, 'dicom'), 'dicom'),
      ...(options.thumbnails ? filesUnder(path.join(dataDir, 'thumbnails'), 'thumbnails') : []),
      ...SECRETS.filter((name) => fs.existsSync(path.join(dataDir, name))),
    ];
    for (const rel of copied) {
      const from = path.join(dataDir, rel);
      const to = path.join(staging, rel);
      fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
      fs.copyFileSync(from, to);
      fs.chmodSync(to, fs.statSync(from).mode & 0o777);
    }
    const files: BackupManifest['files'] = [];
    for (const rel of [SQLITE_FILE, ...copied]) {
      const file = path.join(staging, rel);
      const stat = fs.statSync(file);
      files.push({ path: rel, bytes: stat.size, sha256: await sha256File(file), mode: stat.mode & 0o777 });
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      version: 1,
      createdAt: new Date().toISOString(),
      images: options.archiveUrl ? { store: 'dicomweb', url: options.archiveUrl } : { store: 'local' },
      files,
    };
    fs.writeFileSync(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    if (fs.existsSync(outDir)) fs.rmdirSync(outDir);
    fs.renameSync(staging, outDir);
    return { dir: path.resolve(outDir), manifest };
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Reads and checks a backup: every listed file present with its size and SHA-256. */
export async function verifyBackup(dir: string): Promise<BackupManifest> {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new BackupError(`${dir} has no ${MANIFEST}: not a backup`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new BackupError(`${MANIFEST} is not valid JSON`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new BackupError(
      `${MANIFEST} is malformed: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  const manifest = parsed.data;
  if (!manifest.files.some((f) => f.path === SQLITE_FILE)) {
    throw new BackupError(`${MANIFEST} lists no ${SQLITE_FILE}`);
  }
  for (const entry of manifest.files) {
    const copy = path.join(dir, entry.path);
    if (!fs.existsSync(copy)) throw new BackupError(`${entry.path} is missing from the backup`);
    if (fs.statSync(copy).size !== entry.bytes || (await sha256File(copy)) !== entry.sha256) {
      throw new BackupError(`${entry.path} does not match its SHA-256 in ${MANIFEST}`);
    }
  }
  return manifest;
}

export interface RestoreResult {
  readonly files: number;
  /** Where the directory that was replaced (`--force`) was moved to. */
  readonly replaced?: string;
}

/**
 * Restores into `dataDir` (the server must be stopped). The files are copied into a sibling
 * directory and checked again there; only then does one rename put them in place, so a failed
 * restore leaves the target as it was. With `force`, a non-empty target is moved aside (kept,
 * never deleted: it may be the only copy of something).
 */
export async function runRestore(
  backupDir: string,
  dataDir: string,
  options: { force?: boolean } = {},
): Promise<RestoreResult> {
  const manifest = await verifyBackup(backupDir);
  const target = path.resolve(dataDir);
  if (!isEmptyDir(target) && !options.force) {
    throw new BackupError(`${target} is not empty; stop the server and use --force to replace it`);
  }
  const staging = stagingFor(target, 'restoring');
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    for (const entry of manifest.files) {
      const to = path.join(staging, entry.path);
      fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
      fs.copyFileSync(path.join(backupDir, entry.path), to);
      fs.chmodSync(to, entry.mode);
      // Checked again where it lands: a bad disk or a backup changed underneath is caught here.
      if ((await sha256File(to)) !== entry.sha256)
        throw new BackupError(`${entry.path} changed while copying`);
    }
    let replaced: string | undefined;
    if (fs.existsSync(target)) {
      if (isEmptyDir(target)) fs.rmdirSync(target);
      else {
        replaced = stagingFor(target, 'replaced');
        fs.renameSync(target, replaced);
      }
    }
    fs.renameSync(staging, target);
    return { files: manifest.files.length, ...(replaced ? { replaced } : {}) };
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

export function registerBackupCommands(program: Command, loadConfig: () => Config): void {
  const refusePostgres = (config: Config): boolean => {
    if (!config.databaseUrl) return false;
    console.error(POSTGRES_REFUSAL);
    process.exitCode = 2;
    return true;
  };
  const fail = (error: unknown) => {
    if (!(error instanceof BackupError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  };

  program
    .command('backup')
    .description('copy the database (online, while the server runs), DICOM files and keys to <dir>')
    .argument('<dir>', 'an empty or new directory')
    .option('--with-thumbnails', 'also copy rendered thumbnails (otherwise rendered again on demand)')
    .action(async (dir: string, opts: { withThumbnails?: boolean }) => {
      const config = loadConfig();
      if (refusePostgres(config)) return;
      try {
        const archiveUrl = config.imageStore.kind === 'dicomweb' ? config.imageStore.peer.url : undefined;
        const result = await runBackup(config.dataDir, dir, {
          thumbnails: opts.withThumbnails ?? false,
          archiveUrl,
        });
        if (archiveUrl) {
          // The images are the archive's: this backup holds the database and secrets only.
          console.error(
            `note: IMAGE_STORE=dicomweb: the images are in the archive at ${archiveUrl}, not in this backup; back the archive up with its own tools (the manifest records where they are)`,
          );
        }
        const bytes = result.manifest.files.reduce((sum, f) => sum + f.bytes, 0);
        console.log(`backed up ${result.manifest.files.length} files (${bytes} bytes) to ${result.dir}`);
      } catch (error) {
        fail(error);
      }
    });

  program
    .command('restore')
    .description('restore a backup made by `backup` into DATA_DIR (stop the server first)')
    .argument('<dir>', 'the backup directory')
    .option('--force', 'replace a non-empty DATA_DIR (it is moved aside, not deleted)')
    .action(async (dir: string, opts: { force?: boolean }) => {
      const config = loadConfig();
      if (refusePostgres(config)) return;
      try {
        const result = await runRestore(dir, config.dataDir, { force: opts.force ?? false });
        console.log(`restored ${result.files} files into ${config.dataDir}`);
        if (result.replaced) console.log(`the previous contents are kept in ${result.replaced}`);
      } catch (error) {
        fail(error);
      }
    });
}
