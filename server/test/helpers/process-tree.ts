import fs from 'node:fs';

/** One process as /proc shows it; `start` (clock ticks since boot) tells a reused pid apart. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  start: string;
  state: string;
  command: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), start: fields[19]!, state: fields[0]!, command };
  } catch {
    return undefined;
  }
}

/** The process and every descendant, read from /proc (Linux). */
export function processTree(root: number): ProcInfo[] {
  const all = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is ProcInfo => p !== undefined);
  const tree: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const proc = all.find((p) => p.pid === pid);
    if (!proc) continue;
    tree.push(proc);
    for (const child of all) if (child.ppid === pid) queue.push(child.pid);
  }
  return tree;
}

/** Still running: same pid and start time, and not a zombie (which holds no port or file). */
export function stillRunning(proc: ProcInfo): boolean {
  const now = readProc(proc.pid);
  return now !== undefined && now.start === proc.start && now.state !== 'Z';
}

/** Waits until none of `tree` runs; resolves with the milliseconds it took and what was left. */
export async function waitGone(
  tree: readonly ProcInfo[],
  limitMs: number,
): Promise<{ ms: number; left: ProcInfo[] }> {
  const started = Date.now();
  for (;;) {
    const left = tree.filter(stillRunning);
    const ms = Date.now() - started;
    if (left.length === 0 || ms > limitMs) return { ms, left };
    await new Promise((r) => setTimeout(r, 20));
  }
}
