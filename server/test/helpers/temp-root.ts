import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Vitest global setup: one temporary folder for the whole run, removed when the run ends.
 * Test servers, CLI runs and fixtures make their data directories inside it (tempDir in
 * test-server.ts), so a run leaves nothing behind in the system's temp folder, not even when a
 * test fails before its own cleanup.
 */
export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-tests-'));
  // Test workers are forked after this and inherit the environment.
  process.env.CXR_TEST_TMP = root;
  return () => fs.rmSync(root, { recursive: true, force: true });
}

/** A fresh folder inside the run's temporary folder (the setup above removes it). */
export function tempDir(prefix = 'cxr-test-'): string {
  return fs.mkdtempSync(path.join(process.env.CXR_TEST_TMP ?? os.tmpdir(), prefix));
}
