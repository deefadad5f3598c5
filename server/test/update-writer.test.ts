import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { UpdateWriter, type UpdateSink } from '../src/collab/update-writer.js';
import type { StoredUpdate } from '../src/db/doc-store.js';
import { sqliteUpdateSink } from '../src/db/sqlite-update-sink.js';
import { type Stores, openStores } from '../src/db/stores.js';
import { tempDir } from './helpers/test-server.js';

/**
 * When the update writer stores what it was given: at once on a quiet server, at the end of
 * the event-loop turn (one transaction for the turn) on a busy one. Real SQLite file; the sink
 * is wrapped only to count its transactions.
 */
describe('update writer timing', () => {
  let stores: Stores;
  const room = { sessionId: 'timing-session', scanId: 'timing-scan' };
  const log = pino({ level: 'silent' });

  beforeAll(async () => {
    stores = await openStores({ sqliteFile: `${tempDir()}/timing.sqlite` });
  });
  afterAll(async () => {
    await stores.db.close();
  });

  function counted(): { sink: UpdateSink; batches: number[] } {
    const inner = sqliteUpdateSink(stores.db.sqlite!);
    const batches: number[] = [];
    return {
      batches,
      sink: {
        append: (batch) => {
          batches.push(batch.length);
          return inner.append(batch);
        },
      },
    };
  }

  function update(i: number): StoredUpdate {
    const doc = new Y.Doc();
    doc.getMap('findings').set(`f${i}`, { i });
    return { room, data: Y.encodeStateAsUpdate(doc), userId: 'reader-1' };
  }

  /** Writes two updates in one go and says whether they were stored before the turn ended. */
  async function writeTwo(writer: UpdateWriter): Promise<string[]> {
    const order: string[] = [];
    const turnEnded = new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push('turn ended');
        resolve();
      }),
    );
    const stored = Promise.all([writer.write(update(1)), writer.write(update(2))]).then((seqs) => {
      order.push('stored');
      return seqs;
    });
    const [seqs] = await Promise.all([stored, turnEnded]);
    expect(seqs.every((s) => typeof s === 'number' && s > 0)).toBe(true);
    return order;
  }

  it('R-STORE-7: a quiet server stores an update before the event-loop turn ends, one transaction for what came together', async () => {
    const { sink, batches } = counted();
    const writer = new UpdateWriter(sink, log);
    // Idle for more than one load sample.
    await new Promise((r) => setTimeout(r, 150));
    expect(await writeTwo(writer)).toEqual(['stored', 'turn ended']);
    expect(batches).toEqual([2]);
    const loaded = await stores.docs.load(room);
    expect(loaded.updates).toHaveLength(2);
  });

  it("R-STORE-7: a busy server stores the turn's updates together once the turn ends", async () => {
    const { sink, batches } = counted();
    const writer = new UpdateWriter(sink, log);
    // Keep the event loop fully busy for more than one load sample.
    const until = performance.now() + 150;
    while (performance.now() < until) {
      /* busy */
    }
    expect(await writeTwo(writer)).toEqual(['turn ended', 'stored']);
    expect(batches).toEqual([2]);
  });
});
