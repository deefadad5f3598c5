import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../src/dicom/blob-store.js';
import { HashWorkers, sha256InThread } from '../src/dicom/hash-workers.js';
import { tempDir } from './helpers/test-server.js';

const hex = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('hashing imports off the event loop', () => {
  const workers = new HashWorkers(2);
  afterAll(() => workers.close());

  it('R-INGEST-STORE-5: a large buffer moves to a hash thread; small and pooled parts are copied', async () => {
    const big = randomBytes(3 * 1024 * 1024);
    // A view into the middle of the big buffer, a small pooled Buffer (shares an 8 KiB slab
    // with other Buffers) and an empty part: what de-identification hands to the store.
    const pooled = Buffer.from('DICM header bytes');
    const pixel = big.subarray(1000, big.length - 17);
    const expected = hex(pooled, pixel, new Uint8Array(0));
    const neighbour = Buffer.from('another buffer in the same pool');
    expect(await workers.sha256Taking([pooled, pixel, new Uint8Array(0)])).toBe(expected);
    expect(big.byteLength).toBe(0); // given up: detached
    expect(pooled.toString()).toBe('DICM header bytes');
    expect(neighbour.toString()).toBe('another buffer in the same pool');
  });

  it('R-INGEST-STORE-5: many jobs at once over both threads each get their own digest', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => randomBytes(1024 * 1024 + i * 4097));
    const expected = inputs.map((b) => sha256InThread([b]));
    const got = await Promise.all(inputs.map((b) => workers.sha256Taking([b.subarray(0)])));
    expect(got).toEqual(expected);
  });

  it('R-INGEST-STORE-5: a staged file is named by the hash of exactly the bytes written, given up or not', async () => {
    const store = new BlobStore(path.join(tempDir(), 'blobs'), '', workers);
    for (const give of [true, false]) {
      const big = randomBytes(2 * 1024 * 1024);
      const head = Buffer.from(`head-${give}`);
      const copy = Buffer.concat([head, big.subarray(10)]);
      const staged = await store.stage([head, big.subarray(10)], { give });
      expect(staged.sha256).toBe(hex(copy));
      expect(staged.bytes).toBe(copy.length);
      await staged.commit();
      expect(fs.readFileSync(store.pathFor(staged.sha256)).equals(copy)).toBe(true);
    }
  });
});
