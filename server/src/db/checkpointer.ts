import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The worker is plain CommonJS given as text, so it runs the same under tsx and compiled code.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 2000');
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    // Under a steady stream of writes a passive checkpoint may never find the log fully copied
    // at the moment a writer starts (a long reader also holds it), so the log is never rewound
    // and grows without end. Past the bound, wait for the writers (busy_timeout) and truncate
    // it: the copy is mostly done. Frequent checkpoints make this rare (database.ts).
    if (result && result.log > workerData.truncateFrames) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (error) { parentPort.postMessage(String(error)); }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

/** Past this many frames (about 64 MB at 4 KiB pages) the log is truncated, not just copied. */
export const WAL_TRUNCATE_FRAMES = 16_384;

/**
 * Moves SQLite's WAL checkpoints off the event loop: automatic checkpoints run inside commits
 * on the main thread and their fsyncs stall every room for milliseconds. The main connection
 * turns them off; this worker, with its own connection, checkpoints passively every interval.
 */
export function startCheckpointer(
  file: string,
  intervalMs: number,
  onError: (message: string) => void,
  truncateFrames = WAL_TRUNCATE_FRAMES,
) {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs,
      truncateFrames,
    },
  });
  worker.on('message', (message: unknown) => onError(String(message)));
  worker.on('error', (error) => onError(String(error)));
  worker.unref();
  return {
    async stop(): Promise<void> {
      // Referenced again while stopping: a short-lived command awaiting close() must not exit
      // with the worker half-closed.
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
