import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Immutable files named by the SHA-256 of their content, under `<root>/ab/cdef...` (two hex
 * digits of fan-out keep directories small). Writes go to a temp file in `<root>/.tmp` and are
 * renamed into place, so a reader or a crash never sees half a file. No fsync: like the
 * database (WAL, synchronous NORMAL) this survives a killed process, not a power cut.
 */
export class BlobStore {
  private readonly tmpDir: string;

  constructor(
    readonly root: string,
    private readonly suffix = '',
  ) {
    this.tmpDir = path.join(root, '.tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Where the blob with this hash lives (whether or not it exists). */
  pathFor(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2) + this.suffix);
  }

  /** Stores bytes under their hash (given when the caller already computed it). */
  async put(bytes: Uint8Array, sha256 = sha256Hex(bytes)): Promise<string> {
    const target = this.pathFor(sha256);
    if (await exists(target)) return sha256;
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      await fs.promises.writeFile(tmp, bytes, { mode: 0o600 });
      // Same bytes under the same name: whoever renames last wins and nothing changes.
      await fs.promises.rename(tmp, target);
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      throw error;
    }
    return sha256;
  }

  async has(sha256: string): Promise<boolean> {
    return exists(this.pathFor(sha256));
  }

  async read(sha256: string): Promise<Buffer> {
    return fs.promises.readFile(this.pathFor(sha256));
  }

  async remove(sha256: string): Promise<void> {
    await fs.promises.rm(this.pathFor(sha256), { force: true });
  }

  /** Temp files left by a killed process; only old ones, as another process may be writing. */
  async sweepTemp(olderThanMs = 3600_000): Promise<void> {
    const now = Date.now();
    for (const name of await fs.promises.readdir(this.tmpDir)) {
      const file = path.join(this.tmpDir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat && now - stat.mtimeMs > olderThanMs) await fs.promises.rm(file, { force: true });
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}
