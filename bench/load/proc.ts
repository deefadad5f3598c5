import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident and peak resident memory in bytes, from /proc/<pid>/status. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples a process's RSS while the load runs and its CPU over the measured window. */
export class ProcSampler {
  private timer: NodeJS.Timeout | undefined;
  private cpuStart = 0;
  private wallStart = 0;
  peakRss = 0;

  constructor(readonly pid: number) {}

  start(): void {
    this.cpuStart = cpuSeconds(this.pid);
    this.wallStart = performance.now();
    this.peakRss = memory(this.pid).rss;
    this.timer = setInterval(() => {
      this.peakRss = Math.max(this.peakRss, memory(this.pid).rss);
    }, 250);
  }

  /** CPU use over the window, in % of one core. */
  stop(): { cpuPercent: number; peakRss: number; hwm: number } {
    clearInterval(this.timer);
    const cpu = cpuSeconds(this.pid) - this.cpuStart;
    const wall = (performance.now() - this.wallStart) / 1000;
    const mem = memory(this.pid);
    this.peakRss = Math.max(this.peakRss, mem.rss);
    return { cpuPercent: (100 * cpu) / wall, peakRss: this.peakRss, hwm: mem.hwm };
  }
}

/** A server under test, run as its own process so its CPU and memory can be read. */
export class Child {
  output = '';
  /** Told of every chunk of output (optional; `output` keeps only the tail). */
  onOutput: ((chunk: string) => void) | undefined;
  private readonly child: ChildProcess;

  /**
   * `nice`: a niceness for the process and all its threads (coreutils `nice`, which then runs
   * Node in its place, so the pid is Node's); above 0 the process yields the CPU to this one.
   */
  constructor(args: string[], env: Record<string, string>, cwd: string, nice = 0) {
    const [command, argv] =
      nice === 0 ? [process.execPath, args] : ['nice', ['-n', String(nice), process.execPath, ...args]];
    this.child = spawn(command, argv, {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.onOutput?.(d.toString());
      this.output += d.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Polls `probe` until it succeeds (the process listens), or fails after `timeoutMs`. */
  async waitReady(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (this.exited) throw new Error(`process exited early:\n${this.output}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() - started > timeoutMs) throw new Error(`process did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Resolves once the process has exited (at once if it already has). */
  waitExit(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** Synchronous last resort (process exit, fatal error). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Busy and total CPU time of the whole machine so far (all cores, in ticks), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU used by the whole machine during a window, in % of one core (200 = both of 2 cores). */
export class MachineSampler {
  private start = machineTicks();
  private cores = os.cpus().length;

  restart(): void {
    this.start = machineTicks();
  }

  stop(): number {
    const end = machineTicks();
    return ((end.busy - this.start.busy) / Math.max(1, end.total - this.start.total)) * 100 * this.cores;
  }
}
