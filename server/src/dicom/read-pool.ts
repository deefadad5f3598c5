import fs from 'node:fs';

/** Bytes per read call: 4 MiB reads took 1.1-1.3 ms of CPU per 16.8 MB file here, 1 MiB 1.6. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** A file larger than this is read into a buffer of its own, dropped after use. */
const MAX_POOLED_BYTES = 64 * 1024 * 1024;

/** Free buffers are dropped after this long without a read, so an idle server holds none. */
const IDLE_DROP_MS = 30_000;

/** Buffers are allocated in whole MiB so files of slightly different sizes share them. */
const ALLOC_STEP = 1024 * 1024;

export class FileTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the file is ${bytes} bytes; at most ${limit} are read`);
  }
}

/**
 * Reusable shared-memory buffers that files are read into for import. Reading a 16.8 MB chest
 * file into a fresh Buffer cost 9-10 ms here, mostly the kernel handing out and zeroing new
 * pages; into a reused buffer, 1-3 ms. Shared memory (SharedArrayBuffer) lets a hash thread
 * read the same bytes while this thread writes them out, with nothing copied or moved.
 */
export class FileReadPool {
  private readonly free: SharedArrayBuffer[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    /** Free buffers kept: as many as files are read at once. */
    private readonly keep: number,
    /** Larger files are refused before any memory is taken. */
    private readonly maxFileBytes: number,
  ) {}

  /**
   * Reads `file` whole and runs `use` on its bytes. The bytes are lent: they are reused once
   * `use` settles, so nothing may keep a view of them (copy what must outlive the call).
   */
  async withFile<T>(file: string, use: (bytes: Uint8Array) => Promise<T>): Promise<T> {
    const handle = await fs.promises.open(file, 'r');
    let buffer: SharedArrayBuffer | undefined;
    let bytes: Uint8Array;
    try {
      const { size } = await handle.stat();
      if (size > this.maxFileBytes) throw new FileTooLargeError(size, this.maxFileBytes);
      buffer = this.take(size);
      bytes = await readInto(handle, new Uint8Array(buffer, 0, size));
    } catch (error) {
      if (buffer) this.give(buffer);
      throw error;
    } finally {
      await handle.close();
    }
    try {
      return await use(bytes);
    } finally {
      this.give(buffer);
    }
  }

  /** The smallest free buffer that fits, or a new one. */
  private take(size: number): SharedArrayBuffer {
    let best = -1;
    for (const [i, b] of this.free.entries()) {
      if (b.byteLength >= size && (best < 0 || b.byteLength < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    return new SharedArrayBuffer(Math.max(ALLOC_STEP, Math.ceil(size / ALLOC_STEP) * ALLOC_STEP));
  }

  private give(buffer: SharedArrayBuffer): void {
    if (buffer.byteLength > MAX_POOLED_BYTES) return;
    this.free.push(buffer);
    // Beyond `keep`, the smallest go: the next large file then still finds room.
    this.free.sort((a, b) => b.byteLength - a.byteLength);
    this.free.length = Math.min(this.free.length, this.keep);
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.free.length = 0;
    }, IDLE_DROP_MS);
    this.idleTimer.unref();
  }
}

/** Fills `into` from the start of the file; a file that shrank since its size was read gives fewer bytes. */
async function readInto(handle: fs.promises.FileHandle, into: Uint8Array): Promise<Uint8Array> {
  let at = 0;
  while (at < into.length) {
    const { bytesRead } = await handle.read(into, at, Math.min(READ_CHUNK_BYTES, into.length - at), at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return into.subarray(0, at);
}
