import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { UpdateSink } from '../collab/update-writer.js';
import type { AppendResult, StoredUpdate } from './doc-store.js';
import type { WriteReply, WriteRequest } from './sqlite-writer-thread.js';

// The thread's module is TypeScript under tsx (the way the service runs) and JavaScript once
// compiled; a tiny CommonJS boot script loads either.
const ENTRY = new URL(
  `./sqlite-writer-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);
const BOOT = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) { require(workerData.tsx).register(); require(workerData.entry); }
else import(require('node:url').pathToFileURL(workerData.entry).href);
`;

interface Waiting {
  resolve(results: AppendResult[]): void;
  reject(error: Error): void;
}

export interface SqliteWriter extends UpdateSink {
  close(): Promise<void>;
}

/**
 * Stores accepted document updates (and their audit entries) from a thread of its own with its
 * own connection. Hashing, serialising and the SQLite transaction were a fifth of a busy
 * server's event loop; here they run beside it on another core. A failed transaction, or a
 * thread that died, rejects the batch: the UpdateWriter keeps it and retries (R-DUR-2), and
 * the next batch starts a new thread.
 */
export function startSqliteWriter(file: string, onThreadError: (error: unknown) => void): SqliteWriter {
  const entry = fileURLToPath(ENTRY);
  const tsx = entry.endsWith('.ts') ? createRequire(import.meta.url).resolve('tsx/cjs/api') : undefined;
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closing = false;

  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };

  const spawn = (): Worker => {
    const thread = new Worker(BOOT, { eval: true, workerData: { file, entry, tsx } });
    thread.on('message', (reply: WriteReply) => {
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) thread.unref();
      if ('error' in reply) w.reject(new Error(`storing updates failed: ${reply.error}`));
      else w.resolve(reply.results);
    });
    thread.on('error', (error) => {
      onThreadError(error);
      failAll(error instanceof Error ? error : new Error(String(error)));
    });
    thread.on('exit', (code) => {
      if (worker === thread) worker = undefined;
      if (waiting.size > 0) failAll(new Error(`the update writer thread exited (code ${code})`));
    });
    thread.unref();
    return thread;
  };

  return {
    append(batch: readonly StoredUpdate[]): Promise<AppendResult[]> {
      if (closing) return Promise.reject(new Error('the update writer is closed'));
      if (batch.length === 0) return Promise.resolve([]);
      worker ??= spawn();
      const thread = worker;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // Referenced while a batch is out, so a short-lived command cannot exit before it lands.
        thread.ref();
        const request: WriteRequest = { id, batch };
        thread.postMessage(request);
      });
    },
    async close(): Promise<void> {
      closing = true;
      const thread = worker;
      worker = undefined;
      if (!thread) return;
      thread.ref();
      const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      await thread.terminate();
    },
  };
}

/**
 * Sends batches of at least `threshold` updates to `large` and smaller ones to `small`. A
 * thread hop costs more than the write itself, and more so on a busy machine, where the woken
 * thread may wait milliseconds for a core (at 200 busy rooms on two cores, sending batches of
 * 32 and more to the thread put p99 at 106-124 ms, keeping all but 1000-update ones here
 * 59-82 ms). Only the rare huge batch, formed after a stall, goes to the thread, where storing
 * it does not hold up the event loop. The UpdateWriter stores one batch at a time, so the two
 * never write at once and batches keep their order.
 */
export function bySize(small: UpdateSink, large: UpdateSink, threshold: number): UpdateSink {
  return {
    append: (batch) => (batch.length >= threshold ? large : small).append(batch),
  };
}
