import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCheckpointer } from '../src/db/checkpointer.js';
import { openSqliteConnection } from '../src/db/sqlite-connection.js';
import { tempDir } from './helpers/test-server.js';

/**
 * R-STORE-6: the write-ahead log stays bounded under a steady stream of writes from two
 * connections (the main one and the update writer's thread write in turn all the time).
 */
describe('SQLite checkpoints', () => {
  async function writeSteadily(restartFrames: number): Promise<number> {
    const file = `${tempDir()}/wal.sqlite`;
    const a = openSqliteConnection(file);
    const b = openSqliteConnection(file);
    a.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)');
    const checkpointer = startCheckpointer(
      file,
      20,
      (message) => {
        throw new Error(message);
      },
      restartFrames,
    );
    const blob = Buffer.alloc(4000, 7);
    const inserts = [a, b].map((db) => db.prepare('INSERT INTO t (data) VALUES (?)'));
    let peak = 0;
    const until = Date.now() + 1500;
    for (let i = 0; Date.now() < until; i++) {
      // Never a moment without a write: each connection commits a few rows, then the other.
      for (let k = 0; k < 4; k++) inserts[i % 2]!.run(blob);
      peak = Math.max(peak, fs.statSync(`${file}-wal`).size);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await checkpointer.stop();
    const rows = (a.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    a.close();
    b.close();
    expect(rows).toBeGreaterThan(100);
    return peak;
  }

  it('R-STORE-6: restarts the log past its bound instead of letting it grow', async () => {
    // Copying alone (passive checkpoints) never finds a moment to rewind the log.
    const unbounded = await writeSteadily(Number.MAX_SAFE_INTEGER);
    const bounded = await writeSteadily(200);
    expect(bounded).toBeLessThan(unbounded / 2);
    // 200 frames of 4 KiB plus what is written while one checkpoint runs.
    expect(bounded).toBeLessThan(8 * 1024 * 1024);
  });

  it('R-STORE-6: a reader still in the log delays the restart, not the writers', async () => {
    const file = `${tempDir()}/reader.sqlite`;
    const writer = openSqliteConnection(file);
    const reader = openSqliteConnection(file);
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)');
    const insert = writer.prepare('INSERT INTO t (data) VALUES (?)');
    insert.run(Buffer.alloc(10));
    // An open read transaction (a long export or backup) keeps its snapshot in the log.
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) AS n FROM t').get();
    const checkpointer = startCheckpointer(
      file,
      20,
      (message) => {
        throw new Error(message);
      },
      50,
    );
    const blob = Buffer.alloc(4000, 7);
    let slowest = 0;
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const started = performance.now();
      insert.run(blob);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Restarts past the 50-frame bound were tried all along, each giving up after 100 ms with a
    // second between tries; retrying at every tick, or waiting as long as the reader reads,
    // held this writer past its own 5 s busy timeout ('database is locked').
    expect(slowest).toBeLessThan(1000);
    reader.exec('COMMIT');
    await checkpointer.stop();
    expect((writer.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBeGreaterThan(50);
    writer.close();
    reader.close();
  });
});
