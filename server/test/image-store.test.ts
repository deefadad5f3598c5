import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../src/db/stores.js';
import { BlobStore } from '../src/dicom/blob-store.js';
import {
  ImageStoreError,
  type ImageStore,
  dicomWebImageStore,
  localImageStore,
} from '../src/dicom/image-store.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { DicomWebClient } from '../src/dicomweb/dicomweb-client.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import { OrthancProcess } from './helpers/orthanc.js';
import { ADMIN, Api, startTestServer, tempDir } from './helpers/test-server.js';

/**
 * The image store interface on both back ends (R-IMG-1..4): this node's directory and a real
 * Orthanc archive read through a bounded cache. The same contract runs on each; what differs
 * (the archive keeps what it acknowledged after this node drops its copy) is said where it does.
 */
const archive = new OrthancProcess('image-store');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let uid = 0;
/** A small film of its own (UIDs the archive files it under). */
const film = () =>
  makeSyntheticChestDicom({
    rows: 96,
    columns: 80,
    seed: 500 + ++uid,
    sopInstanceUid: `2.25.8100${uid}`,
    studyInstanceUid: `2.25.8200${uid}`,
    seriesInstanceUid: `2.25.8300${uid}`,
  });

interface Backend {
  readonly name: string;
  make(): Promise<{ images: ImageStore; root: string; stores: Stores }>;
}

const opened: Stores[] = [];
async function stores(): Promise<Stores> {
  const s = await openStores({ sqliteFile: path.join(tempDir(), 'cxr.sqlite') });
  opened.push(s);
  return s;
}

const BACKENDS: Backend[] = [
  {
    name: 'local',
    async make() {
      const root = tempDir();
      return { images: localImageStore(new BlobStore(root)), root, stores: await stores() };
    },
  },
  {
    name: 'dicomweb',
    async make() {
      const root = tempDir();
      const s = await stores();
      const client = new DicomWebClient({ url: archive.dicomWebUrl, auth: undefined }, { timeoutMs: 3000 });
      return {
        images: dicomWebImageStore({
          client,
          cache: new BlobStore(root),
          cacheBytes: 64 * 1024 * 1024,
          db: s.db.kysely,
        }),
        root,
        stores: s,
      };
    },
  },
];

beforeAll(async () => {
  await archive.start();
});
afterAll(async () => {
  for (const s of opened) await s.db.close();
  await archive.stop();
});

async function stored(images: ImageStore, bytes: Uint8Array): Promise<string> {
  const staged = await images.stage([bytes.subarray(0, 1000), bytes.subarray(1000)]);
  await staged.commit();
  return staged.sha256;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ImageStoreError);
    return (error as ImageStoreError).code;
  }
  throw new Error('expected a refusal');
}

for (const backend of BACKENDS) {
  describe(`image store: ${backend.name}`, () => {
    it('R-IMG-1, R-IMG-2: content addressed: stored parts read back whole under their SHA-256, from a file on this node', async () => {
      const { images } = await backend.make();
      const bytes = film();
      expect(await images.hash([bytes])).toBe(sha(bytes));
      const key = await stored(images, bytes);
      expect(key).toBe(sha(bytes));
      expect(sha(await images.read(key))).toBe(key);
      expect(sha(fs.readFileSync(await images.localPath(key)))).toBe(key);
      // The same bytes again are the same image.
      expect(await stored(images, bytes)).toBe(key);
    });

    it('R-IMG-3: an image the store does not hold is image_missing (404), never a bare error', async () => {
      const { images } = await backend.make();
      const unknown = sha(new Uint8Array([1, 2, 3]));
      expect(await refusal(images.read(unknown))).toBe('image_missing');
      expect(await refusal(images.localPath(unknown))).toBe('image_missing');
      expect(new ImageStoreError('image_missing', 'x').status).toBe(404);
      expect(new ImageStoreError('store_unavailable', 'x').status).toBe(503);
    });

    it('R-IMG-2: dropping this node’s copy: the local store no longer has it; the archive serves it again', async () => {
      const { images, root } = await backend.make();
      const key = await stored(images, film());
      await images.remove(key);
      expect(fs.existsSync(path.join(root, key.slice(0, 2), key.slice(2)))).toBe(false);
      if (backend.name === 'local') expect(await refusal(images.read(key))).toBe('image_missing');
      else expect(sha(await images.read(key))).toBe(key);
    });
  });
}

describe('image store: dicomweb archive failures', () => {
  it('R-IMG-1: the archive away at commit: store_unavailable, no archive row, nothing in the cache', async () => {
    const { images, root, stores: s } = await BACKENDS[1]!.make();
    await archive.stop();
    try {
      const staged = await images.stage([film()]);
      expect(await refusal(staged.commit())).toBe('store_unavailable');
      const rows = await s.db.kysely.selectFrom('archived_images').selectAll().execute();
      expect(rows).toEqual([]);
      expect(fs.existsSync(path.join(root, staged.sha256.slice(0, 2), staged.sha256.slice(2)))).toBe(false);
    } finally {
      await archive.start();
    }
  });

  it('R-IMG-3: the archive away at read of an uncached image: store_unavailable (503); back, it is served', async () => {
    const { images } = await BACKENDS[1]!.make();
    const key = await stored(images, film());
    await images.remove(key);
    await archive.stop();
    try {
      expect(await refusal(images.read(key))).toBe('store_unavailable');
    } finally {
      await archive.start();
    }
    expect(sha(await images.read(key))).toBe(key);
  });

  it('R-IMG-2: an archive answering other bytes than were stored is refused, not served', async () => {
    const { images, stores: s } = await BACKENDS[1]!.make();
    const first = await stored(images, film());
    const second = await stored(images, film());
    await images.remove(first);
    // The row of `first` now names the instance of `second`: what a mixed-up archive would answer.
    const other = await s.db.kysely
      .selectFrom('archived_images')
      .selectAll()
      .where('sha256', '=', second)
      .executeTakeFirstOrThrow();
    await s.db.kysely
      .updateTable('archived_images')
      .set({ study_uid: other.study_uid, series_uid: other.series_uid, sop_uid: other.sop_uid })
      .where('sha256', '=', first)
      .execute();
    expect(await refusal(images.read(first))).toBe('store_unavailable');
  });

  it('R-IMG-2: the cache stays under IMAGE_CACHE_BYTES, least recently used out; an evicted image is fetched again', async () => {
    const root = tempDir();
    const s = await stores();
    const client = new DicomWebClient({ url: archive.dicomWebUrl, auth: undefined }, { timeoutMs: 3000 });
    const size = film().byteLength;
    const images = dicomWebImageStore({
      client,
      cache: new BlobStore(root),
      cacheBytes: Math.floor(size * 2.5),
      db: s.db.kysely,
    });
    const keys: string[] = [];
    for (let i = 0; i < 4; i++) keys.push(await stored(images, film()));
    const cached = (k: string) => fs.existsSync(path.join(root, k.slice(0, 2), k.slice(2)));
    // Evicted files are unlinked in the background (a reader streaming one keeps it open).
    await expect.poll(() => keys.map(cached)).toEqual([false, false, true, true]);
    expect(sha(await images.read(keys[0]!))).toBe(keys[0]);
    expect(cached(keys[0]!)).toBe(true);
    await expect.poll(() => keys.filter(cached)).toHaveLength(2);
  });
});

describe('serving with a file missing from the local store', () => {
  it('R-IMG-3: /dicom and /preview answer 404 image_missing with an error body, never 500', async () => {
    const server = await startTestServer();
    try {
      const login = await new Api(server.url).login(ADMIN.username, ADMIN.password);
      const up = await uploadDicom(
        server,
        login.token,
        makeSyntheticChestDicom({ rows: 600, columns: 520, seed: 9 }),
      );
      expect(up.status).toBe(201);
      const key = String(up.body.sha256);
      fs.rmSync(path.join(server.config.dataDir, 'dicom', key.slice(0, 2), key.slice(2)));
      for (const what of ['dicom', 'preview']) {
        const res = await getBytes(server, `/api/scans/${up.body.id}/${what}`, login.token);
        expect(res.status, what).toBe(404);
        expect(JSON.parse(Buffer.from(res.bytes).toString()).error.code, what).toBe('image_missing');
      }
    } finally {
      await server.close();
    }
  });
});
