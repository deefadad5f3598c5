import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStores } from '../src/db/stores.js';
import { BlobStore } from '../src/dicom/blob-store.js';
import { deidentify } from '../src/dicom/deidentify.js';
import { HashWorkers, inSharedMemory, sha256InThread } from '../src/dicom/hash-workers.js';
import { FileReadPool, FileTooLargeError } from '../src/dicom/read-pool.js';
import { createDicomServices } from '../src/dicom/services.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { loadUidKey } from '../src/dicom/uid-key.js';
import { createUidMapper } from '../src/dicom/uid-mapper.js';
import { tempDir } from './helpers/test-server.js';

const hex = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** `bytes` copied into shared memory, as the read pool lends them. */
function shared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

describe('hashing imports off the event loop', () => {
  const workers = new HashWorkers(2);
  afterAll(() => workers.close());

  it('R-INGEST-STORE-5: shared memory is hashed in place; other parts are copied and left as they were', async () => {
    const big = shared(randomBytes(3 * 1024 * 1024));
    // A view into the middle of the shared buffer, a small pooled Buffer (shares an 8 KiB slab
    // with other Buffers) and an empty part: what de-identification hands to the store.
    const pooled = Buffer.from('DICM header bytes');
    const pixel = big.subarray(1000, big.length - 17);
    const expected = hex(pooled, pixel, new Uint8Array(0));
    const parts = [pooled, pixel, new Uint8Array(0)];
    expect(inSharedMemory(parts)).toBe(true);
    expect(await workers.sha256Of(parts)).toBe(expected);
    expect(big.byteLength).toBe(3 * 1024 * 1024); // read, not moved
    expect(pooled.toString()).toBe('DICM header bytes');
    // A large part outside shared memory would be copied to the thread: the store hashes it here.
    expect(inSharedMemory([randomBytes(1024 * 1024)])).toBe(false);
  });

  it('R-INGEST-STORE-5: many jobs at once over both threads each get their own digest', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => shared(randomBytes(1024 * 1024 + i * 4097)));
    const expected = inputs.map((b) => sha256InThread([b]));
    const got = await Promise.all(inputs.map((b) => workers.sha256Of([b])));
    expect(got).toEqual(expected);
  });

  it('R-INGEST-STORE-5: a staged file is named by the hash of exactly the bytes written, shared or not', async () => {
    const store = new BlobStore(path.join(tempDir(), 'blobs'), '', workers);
    for (const inShared of [true, false]) {
      const plain = randomBytes(2 * 1024 * 1024);
      const big = inShared ? shared(plain) : plain;
      const head = Buffer.from(`head-${inShared}`);
      const copy = Buffer.concat([head, big.subarray(10)]);
      const staged = await store.stage([head, big.subarray(10)]);
      expect(staged.sha256).toBe(hex(copy));
      expect(staged.bytes).toBe(copy.length);
      await staged.commit();
      expect(fs.readFileSync(store.pathFor(staged.sha256)).equals(copy)).toBe(true);
    }
  });
});

describe('the import read pool', () => {
  it('R-INGEST-STORE-6: reads each file exactly into reused shared memory', async () => {
    const dir = tempDir();
    const pool = new FileReadPool(1, 8 * 1024 * 1024);
    const files = [3 * 1024 * 1024 + 5, 2 * 1024 * 1024, 17].map((size, i) => {
      const file = path.join(dir, `${i}.bin`);
      fs.writeFileSync(file, randomBytes(size));
      return file;
    });
    const buffers: ArrayBufferLike[] = [];
    for (const file of files) {
      const digest = await pool.withFile(file, async (bytes) => {
        buffers.push(bytes.buffer);
        expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
        return sha256InThread([bytes]);
      });
      expect(digest).toBe(hex(fs.readFileSync(file)));
    }
    // The first file's buffer fits the smaller ones after it: one allocation for all three.
    expect(buffers[1]).toBe(buffers[0]);
    expect(buffers[2]).toBe(buffers[0]);
  });

  it('R-INGEST-STORE-6: a file over the bound is refused before it is read; a missing file is an error', async () => {
    const dir = tempDir();
    const pool = new FileReadPool(1, 1024 * 1024);
    const big = path.join(dir, 'big.bin');
    // Sparse: the size is what is checked, no bytes need to exist.
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 1024 * 1024 + 1);
    let used = false;
    await expect(
      pool.withFile(big, async () => {
        used = true;
      }),
    ).rejects.toBeInstanceOf(FileTooLargeError);
    expect(used).toBe(false);
    await expect(pool.withFile(path.join(dir, 'missing.bin'), async () => 1)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('R-INGEST-STORE-6: a buffer is lent to one file at a time', async () => {
    const dir = tempDir();
    const pool = new FileReadPool(2, 8 * 1024 * 1024);
    const a = path.join(dir, 'a.bin');
    const b = path.join(dir, 'b.bin');
    fs.writeFileSync(a, Buffer.alloc(1000, 1));
    fs.writeFileSync(b, Buffer.alloc(1000, 2));
    // While a's bytes are in use, reading b must not overwrite them.
    await pool.withFile(a, async (bytesA) => {
      await pool.withFile(b, async (bytesB) => {
        expect(bytesB.buffer).not.toBe(bytesA.buffer);
        expect(bytesB.every((x) => x === 2)).toBe(true);
      });
      expect(bytesA.every((x) => x === 1)).toBe(true);
    });
  });
});

describe('a file without SOP Instance UID', () => {
  it('R-INGEST-STORE-5: is keyed by its hash off the event loop and stored exactly as de-identification makes it here', async () => {
    const dataDir = tempDir();
    const stores = await openStores({ sqliteFile: path.join(dataDir, 'cxr.sqlite') });
    try {
      const { importer, blobs } = createDicomServices({ dataDir, files: stores.scanFiles, profile: 'basic' });
      // Large enough that the bytes take the shared-memory path to the hash thread.
      const bytes = makeSyntheticChestDicom({ rows: 1024, columns: 1024, seed: 3, sopInstanceUid: null });
      const file = path.join(dataDir, 'vindr-like.dicom');
      fs.writeFileSync(file, bytes);
      const imported = await importer.importFile(file, null);
      if (!imported.ok) throw new Error(imported.error.message);
      const here = deidentify(bytes, { profile: 'basic', uidMap: createUidMapper(loadUidKey(dataDir)) });
      if (!here.ok) throw new Error(here.error.message);
      expect((await blobs.read(imported.value.sha256)).equals(Buffer.from(here.value))).toBe(true);
      expect(imported.value.id).toBe('vindr-like');
    } finally {
      await stores.db.close();
    }
  });
});
