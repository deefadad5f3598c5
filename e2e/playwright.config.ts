import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  BASE_URL,
  PACS_DICOMWEB,
  PACS_PORT,
  PACS_REST,
  PORT,
} from './fixtures/env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Only the runner process starts the server; workers load this file too and must not make dirs.
const dataDir =
  process.env.TEST_WORKER_INDEX === undefined ? mkdtempSync(path.join(tmpdir(), 'cxr-e2e-')) : '';
// Removed when the runner exits, after it has stopped the server.
if (dataDir) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));

/**
 * The hospital's PACS for the import spec: a real Orthanc (Debian's `orthanc` and
 * `orthanc-dicomweb`) as a plain process with its own storage under the run's data directory.
 */
const orthancConfig = dataDir ? path.join(dataDir, 'orthanc.json') : '';
if (orthancConfig) {
  writeFileSync(
    orthancConfig,
    JSON.stringify({
      Name: 'e2e-pacs',
      StorageDirectory: path.join(dataDir, 'orthanc'),
      IndexDirectory: path.join(dataDir, 'orthanc'),
      HttpPort: PACS_PORT,
      HttpBindAddress: '127.0.0.1',
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomServerEnabled: false,
      HttpCompressionEnabled: false,
      Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'],
      DicomWeb: { Enable: true, Root: '/dicom-web/' },
    }),
  );
}

/**
 * End-to-end specs in real Chromium (the system one: never downloaded) against a real server
 * on a fixed test port with a throw-away data directory. The client is built first so the
 * server serves exactly what ships.
 */
export default defineConfig({
  testDir: './specs',
  outputDir: path.join(root, 'e2e', 'test-results'),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      command: `/usr/sbin/Orthanc ${orthancConfig}`,
      url: `${PACS_REST}/system`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'ignore',
    },
    {
      command: 'npx vite build client --logLevel warn && npx tsx server/src/cli.ts serve',
      cwd: root,
      url: `${BASE_URL}/api/health`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        PORT: String(PORT),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_USERNAME,
        ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
        PACS_URL: PACS_DICOMWEB,
      },
    },
  ],
});
