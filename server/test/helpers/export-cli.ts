import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `cxr export ...args` as a real child process on `dataDir` (SQLite there: the test
 * environment's PostgreSQL settings are left out), with its exit code and output.
 */
export function runExportCli(dataDir: string, args: readonly string[]) {
  const { DATABASE_URL: _url, DATABASE_SCHEMA: _schema, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/cli.ts', 'export', ...args], {
    cwd: ROOT,
    env: { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
