import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

// Plain CommonJS given as text, so it runs the same under tsx and compiled code.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, parts }) => {
  try {
    const hash = createHash('sha256');
    for (const p of parts) hash.update(new Uint8Array(p.buffer, p.offset, p.length));
    parentPort.postMessage({ id, sha256: hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});
`;

interface Job {
  readonly resolve: (sha256: string) => void;
  readonly reject: (error: Error) => void;
}

interface HashThread {
  readonly worker: Worker;
  readonly jobs: Map<number, Job>;
}

/**
 * SHA-256 over a file given as parts, on worker threads: an import is mostly hashing, and on
 * the event loop two imports at once hashed one after the other on one core while the other
 * core waited. Files are read into shared memory (read-pool.ts), which a worker reads in place
 * while the event loop writes the same bytes out: nothing is copied.
 */
export class HashWorkers {
  private readonly threads: HashThread[] = [];
  private nextId = 1;

  constructor(private readonly size = Math.max(1, os.availableParallelism())) {}

  /**
   * Hashes `parts` in order. Parts in shared memory are read where they are (the caller must
   * not change them until this settles); others are copied.
   */
  sha256Of(parts: readonly Uint8Array[]): Promise<string> {
    const message = parts.map((p) =>
      p.buffer instanceof SharedArrayBuffer
        ? { buffer: p.buffer, offset: p.byteOffset, length: p.byteLength }
        : // A copy of exactly the view (Buffer#slice would share, and its buffer is the pool's).
          { buffer: new Uint8Array(p).buffer, offset: 0, length: p.byteLength },
    );
    const thread = this.leastBusy();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      thread.jobs.set(id, { resolve, reject });
      thread.worker.ref();
      try {
        thread.worker.postMessage({ id, parts: message });
      } catch (error) {
        thread.jobs.delete(id);
        if (thread.jobs.size === 0) thread.worker.unref();
        reject(error);
      }
    });
  }

  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private leastBusy(): HashThread {
    if (this.threads.length < this.size) {
      const thread = this.spawn();
      this.threads.push(thread);
      return thread;
    }
    return this.threads.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  private spawn(): HashThread {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const jobs = new Map<number, Job>();
    const thread = { worker, jobs };
    worker.on('message', (msg: { id: number; sha256?: string; error?: string }) => {
      const job = jobs.get(msg.id);
      if (!job) return;
      jobs.delete(msg.id);
      if (jobs.size === 0) worker.unref();
      if (msg.sha256 !== undefined) job.resolve(msg.sha256);
      else job.reject(new Error(`hashing failed: ${msg.error ?? 'unknown error'}`));
    });
    const fail = (error: Error) => {
      for (const job of jobs.values()) job.reject(error);
      jobs.clear();
      const at = this.threads.indexOf(thread);
      if (at >= 0) this.threads.splice(at, 1);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash worker exited (${code})`)));
    // Idle workers must not keep a CLI or a test process alive.
    worker.unref();
    return thread;
  }
}

/**
 * True when every part a hash thread would otherwise copy is in shared memory (small parts,
 * such as a rewritten header, are cheap to copy).
 */
export function inSharedMemory(parts: readonly Uint8Array[]): boolean {
  return parts.every((p) => p.buffer instanceof SharedArrayBuffer || p.byteLength < SMALL_COPY_BYTES);
}

/** Parts below this size are copied to a hash thread without regret. */
const SMALL_COPY_BYTES = 64 * 1024;

/** SHA-256 (hex) of parts in order, on this thread. */
export function sha256InThread(parts: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest('hex');
}
