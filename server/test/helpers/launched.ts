import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProcInfo, processTree } from './process-tree.js';
import { ADMIN } from './test-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A start command exactly as a user or a supervisor runs it (`npm start`, the Dockerfile's
 * ENTRYPOINT + CMD), in its own process group so a test can signal the group or the top only.
 */
export class Launched {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(argv: readonly string[], port: number, env: Record<string, string>): Promise<Launched> {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const launched = new Launched(child, `http://127.0.0.1:${port}`);
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited before serving: ${launched.output}`);
      try {
        if ((await fetch(`${launched.url}/api/health`)).ok) return launched;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 60_000) throw new Error(`did not start: ${launched.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  tree(): ProcInfo[] {
    return processTree(this.pid);
  }

  /** SIGTERM/SIGINT to the top process only, as docker stop and most supervisors send it. */
  signalTop(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** To the whole process group, as a terminal's Ctrl-C or systemd's default KillMode. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  /** Clean-up: whatever is left of the group. */
  killAll(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The Dockerfile's ENTRYPOINT followed by its CMD (exec form), as the image runs them. */
export function dockerfileCommand(file = path.join(ROOT, 'Dockerfile')): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const exec = (instruction: string): string[] => {
    const line = text.split('\n').find((l) => l.startsWith(`${instruction} `));
    if (!line) return [];
    return JSON.parse(line.slice(instruction.length + 1)) as string[];
  };
  return [...exec('ENTRYPOINT'), ...exec('CMD')];
}
