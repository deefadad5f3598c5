import fs from 'node:fs';
import dicomParser from 'dicom-parser';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { type DicomWebClient, DicomWebError } from '../dicomweb/dicomweb-client.js';
import type { BlobStore, Staged } from './blob-store.js';
import { sha256InThread } from './hash-workers.js';

/**
 * Why an image could not be stored or read. `image_missing`: the database names an image the
 * store does not hold (404); `store_unavailable`: the archive did not answer in time or
 * refused (503, try again later). Messages name no patient attribute.
 */
export class ImageStoreError extends Error {
  constructor(
    readonly code: 'image_missing' | 'store_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ImageStoreError';
  }

  get status(): 404 | 503 {
    return this.code === 'image_missing' ? 404 : 503;
  }
}

/**
 * Where de-identified images live, behind one interface: this node's directory (`local`) or a
 * DICOMweb archive every node shares (`dicomweb`), read through a bounded per-node disk cache.
 * Both are addressed by the SHA-256 of the stored bytes; a fetched copy is checked against it.
 */
export interface ImageStore {
  readonly kind: 'local' | 'dicomweb';
  /** Writes to a temp file and hashes; `commit` puts the image in the store before any row names it. */
  stage(parts: readonly Uint8Array[]): Promise<Staged>;
  hash(parts: readonly Uint8Array[]): Promise<string>;
  /** A file on this node holding the image (fetched into the cache first for an archive). */
  localPath(sha256: string): Promise<string>;
  read(sha256: string): Promise<Buffer>;
  /** Drops this node's copy of bytes no row names (the archive keeps what it acknowledged). */
  remove(sha256: string): Promise<void>;
}

/** The local directory store: today's content-addressed files under `DATA_DIR/dicom`. */
export function localImageStore(blobs: BlobStore): ImageStore {
  async function localPath(sha256: string): Promise<string> {
    const file = blobs.pathFor(sha256);
    if (!(await blobs.has(sha256))) {
      throw new ImageStoreError('image_missing', 'the stored image of this scan is missing on this node');
    }
    return file;
  }
  return {
    kind: 'local',
    stage: (parts) => blobs.stage(parts),
    hash: (parts) => blobs.hash(parts),
    localPath,
    read: async (sha256) => fs.promises.readFile(await localPath(sha256)),
    remove: (sha256) => blobs.remove(sha256),
  };
}

/** What the archive needs to find an instance again: its de-identified UIDs. */
interface ArchivedInstance {
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopUid: string;
}

/**
 * A DICOMweb archive (STOW-RS on commit, WADO-RS on a cache miss) with `cache` as this node's
 * bounded copy. The instance UIDs of each stored hash are kept in `archived_images`, written
 * after the archive acknowledged the instance and before the caller's row commits.
 */
export function dicomWebImageStore(options: {
  client: DicomWebClient;
  cache: BlobStore;
  cacheBytes: number;
  db: Kysely<Database>;
}): ImageStore {
  const { client, cache, db } = options;
  const lru = new CacheBound(cache, options.cacheBytes);
  const fetching = new Map<string, Promise<string>>();

  async function instanceOf(sha256: string): Promise<ArchivedInstance> {
    const row = await db
      .selectFrom('archived_images')
      .select(['study_uid', 'series_uid', 'sop_uid'])
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!row) throw new ImageStoreError('image_missing', 'the archive holds no image of this scan');
    return { studyUid: row.study_uid, seriesUid: row.series_uid, sopUid: row.sop_uid };
  }

  async function fetchIntoCache(sha256: string): Promise<string> {
    const instance = await instanceOf(sha256);
    let bytes: Uint8Array;
    try {
      bytes = await client.retrieveInstance({
        studyInstanceUid: instance.studyUid,
        seriesInstanceUid: instance.seriesUid,
        sopInstanceUid: instance.sopUid,
      });
    } catch (error) {
      throw archiveError(error, 'retrieve');
    }
    // Content addressing holds across the archive: a copy that is not these bytes is never served.
    if (sha256InThread([bytes]) !== sha256) {
      throw new ImageStoreError('store_unavailable', 'the archive answered other bytes than were stored');
    }
    await cache.putAs(sha256, bytes);
    lru.added(sha256, bytes.byteLength);
    return cache.pathFor(sha256);
  }

  async function localPath(sha256: string): Promise<string> {
    if (await cache.has(sha256)) {
      lru.touched(sha256);
      return cache.pathFor(sha256);
    }
    // Concurrent first requests share one retrieve.
    let pending = fetching.get(sha256);
    if (!pending) {
      pending = fetchIntoCache(sha256).finally(() => fetching.delete(sha256));
      fetching.set(sha256, pending);
    }
    return pending;
  }

  return {
    kind: 'dicomweb',
    hash: (parts) => cache.hash(parts),
    async stage(parts) {
      const staged = await cache.stage(parts);
      return {
        ...staged,
        commit: async () => {
          const uids = await readInstanceUids(staged.tempPath);
          let outcome: Awaited<ReturnType<DicomWebClient['store']>>;
          try {
            outcome = await client.store([parts]);
          } catch (error) {
            throw archiveError(error, 'store');
          }
          if (!outcome.stored.includes(uids.sopUid)) {
            const reason = outcome.failed[0]?.reason ?? 'not acknowledged';
            throw new ImageStoreError('store_unavailable', `the archive did not store the image (${reason})`);
          }
          await db
            .insertInto('archived_images')
            .values({
              sha256: staged.sha256,
              study_uid: uids.studyUid,
              series_uid: uids.seriesUid,
              sop_uid: uids.sopUid,
            })
            .onConflict((c) => c.column('sha256').doNothing())
            .execute();
          await staged.commit();
          lru.added(staged.sha256, staged.bytes);
        },
      };
    },
    localPath,
    read: async (sha256) => fs.promises.readFile(await localPath(sha256)),
    remove: async (sha256) => {
      await cache.remove(sha256);
      lru.removed(sha256);
    },
  };
}

function archiveError(error: unknown, what: 'store' | 'retrieve'): ImageStoreError {
  if (error instanceof DicomWebError) {
    if (error.kind === 'not_found')
      return new ImageStoreError('image_missing', 'the archive holds no image of this scan');
    return new ImageStoreError('store_unavailable', `image archive ${what} failed: ${error.message}`);
  }
  throw error;
}

/** The de-identified UIDs of a staged file, from its header (pixel data is not read). */
async function readInstanceUids(file: string): Promise<ArchivedInstance> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = new Uint8Array(256 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const ds = dicomParser.parseDicom(head.subarray(0, bytesRead), { untilTag: 'x7fe00010' });
    const uid = (tag: string) => ds.string(tag)?.replace(/\0+$/, '').trim();
    const studyUid = uid('x0020000d');
    const seriesUid = uid('x0020000e');
    const sopUid = uid('x00080018') ?? uid('x00020003');
    if (!studyUid || !seriesUid || !sopUid) {
      throw new ImageStoreError(
        'store_unavailable',
        'the image has no Study/Series/SOP Instance UID for the archive',
      );
    }
    return { studyUid, seriesUid, sopUid };
  } finally {
    await handle.close();
  }
}

/**
 * Keeps the cache under its byte bound, least recently used out first. Sizes are read from
 * the directory at start, so the bound holds across restarts.
 */
class CacheBound {
  private readonly sizes = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly cache: BlobStore,
    private readonly bound: number,
  ) {
    for (const dir of safeReaddir(cache.root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of safeReaddir(`${cache.root}/${dir}`)) {
        const size = fs.statSync(`${cache.root}/${dir}/${name}`, { throwIfNoEntry: false })?.size;
        if (size !== undefined) this.set(dir + name, size);
      }
    }
  }

  added(sha256: string, bytes: number): void {
    this.set(sha256, bytes);
    this.evict(sha256);
  }

  touched(sha256: string): void {
    const size = this.sizes.get(sha256);
    if (size !== undefined) this.set(sha256, size);
  }

  removed(sha256: string): void {
    this.total -= this.sizes.get(sha256) ?? 0;
    this.sizes.delete(sha256);
  }

  private set(sha256: string, bytes: number): void {
    this.removed(sha256);
    // A Map iterates in insertion order: re-inserting moves an entry to the recent end.
    this.sizes.set(sha256, bytes);
    this.total += bytes;
  }

  /** Drops the oldest files over the bound, never the one just added (it is being served). */
  private evict(keep: string): void {
    for (const [sha256] of this.sizes) {
      if (this.total <= this.bound) return;
      if (sha256 === keep) continue;
      this.removed(sha256);
      // A file being streamed stays readable after its unlink.
      void this.cache.remove(sha256).catch(() => {});
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
