import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The worker is plain CommonJS given as text, so it runs the same under tsx and compiled code.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
// A restart holds every writer while it waits for readers still in the log: behind a long one
// (a backup) it gives up after readerWaitMs and waits restartBackoffMs before the next try, so
// the writers get the time between. Trying again at every tick starved them (SQLITE_BUSY).
db.pragma('busy_timeout = ' + workerData.readerWaitMs);
let restartAfter = 0;
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    // Under a steady stream of writes a passive checkpoint may never find the log fully copied
    // at the moment a writer starts (it must also fsync, which takes ~5 ms on a virtual disk,
    // while writes come every millisecond), so the log is never rewound and grows without end.
    // Past the bound, hold the writers, copy the rest and restart the log: the next writer
    // starts it again from the top. The copy is mostly done: they wait for the rest and its fsync.
    if (result && result.log > workerData.restartFrames && Date.now() >= restartAfter) {
      const [restart] = db.pragma('wal_checkpoint(RESTART)');
      if (restart && restart.busy) restartAfter = Date.now() + workerData.restartBackoffMs;
    }
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

/**
 * Past this many frames (16 MB at 4 KiB pages) the log is restarted, not just copied. The file
 * keeps its size: TRUNCATE, used before, shortened it while every writer waited, and on ext4
 * that `ftruncate` held them 35-105 ms (a 1,000-commit/s probe: worst commit 80-106 ms against
 * 4-9 ms with RESTART, which only waits for the last copy and its fsync).
 */
export const WAL_RESTART_FRAMES = 4_096;
/** How long a restart waits for readers of the log (holding the writers) before giving up... */
const READER_WAIT_MS = 100;
/** ...and how long it then lets the writers run before trying again. */
const RESTART_BACKOFF_MS = 1_000;

/**
 * Moves SQLite's WAL checkpoints off the event loop: automatic checkpoints run inside commits
 * on the main thread and their fsyncs stall every room for milliseconds. The main connection
 * turns them off; this worker, with its own connection, checkpoints passively every interval.
 */
export function startCheckpointer(
  file: string,
  intervalMs: number,
  onError: (message: string) => void,
  restartFrames = WAL_RESTART_FRAMES,
) {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs,
      restartFrames,
      readerWaitMs: READER_WAIT_MS,
      restartBackoffMs: RESTART_BACKOFF_MS,
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
