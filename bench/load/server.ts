import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './proc.js';
import { ADMIN } from './setup.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Server processes started by this bench, killed whatever happens when the bench exits. */
export const children = new Set<Child>();

export function killChildren(): void {
  for (const child of children) child.kill();
}

/** Kills every child on exit and SIGINT, and stops the whole bench after `deadlineMs`. */
export function guard(deadlineMs: number, cleanup: () => void = () => {}): NodeJS.Timeout {
  process.on('exit', () => {
    killChildren();
    cleanup();
  });
  process.on('SIGINT', () => {
    killChildren();
    cleanup();
    process.exit(130);
  });
  const timer = setTimeout(() => {
    console.error('bench: deadline passed, stopping');
    killChildren();
    cleanup();
    process.exit(3);
  }, deadlineMs);
  timer.unref();
  return timer;
}

/** Starts the real server (`cli.ts serve`) on 127.0.0.1:port and waits for /api/health. */
export async function startServer(
  port: number,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Child> {
  const child = new Child(
    ['--import', 'tsx', path.join(ROOT, 'server/src/cli.ts'), 'serve'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
      ...env,
    },
    ROOT,
  );
  children.add(child);
  await child.waitReady(async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok, 60_000);
  return child;
}

/** GET /api/health with a timeout: true when the server answers 200 in time. */
export async function healthy(port: number, timeoutMs = 5000): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
