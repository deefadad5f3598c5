import { parentPort, workerData } from 'node:worker_threads';
import type { AppendResult, StoredUpdate } from './doc-store.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { sqliteUpdateTransaction } from './sqlite-update-sink.js';

/** A batch to store, as sqlite-writer.ts posts it. */
export interface WriteRequest {
  readonly id: number;
  readonly batch: readonly StoredUpdate[];
}

/** The answer for one batch: its results in order, or why the transaction failed. */
export type WriteReply =
  | { readonly id: number; readonly results: AppendResult[] }
  | { readonly id: number; readonly error: string };

// The writer thread: its own connection, the same transaction as the in-thread sink.
const port = parentPort;
if (port) {
  const db = openSqliteConnection(String(workerData.file));
  const run = sqliteUpdateTransaction(db);
  port.on('message', (message: WriteRequest | 'stop') => {
    if (message === 'stop') {
      db.close();
      port.close();
      return;
    }
    let reply: WriteReply;
    try {
      reply = { id: message.id, results: run(message.batch) };
    } catch (error) {
      reply = { id: message.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
