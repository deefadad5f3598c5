import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** A request body written to disk; `remove` deletes it (call it in `finally`). */
export interface Spooled {
  readonly file: string;
  readonly bytes: number;
  remove(): Promise<void>;
}

/** Thrown inside the pipeline when the body passes the bound; becomes a 413. */
class TooLarge extends Error {}

/**
 * Streams an upload to a temp file, counting bytes and stopping at `maxBytes` + 1, so a large or
 * endless body never sits in memory and never fills the disk.
 */
export async function spoolToFile(body: Readable, dir: string, maxBytes: number): Promise<Spooled> {
  await fs.promises.mkdir(dir, { recursive: true });
  const file = path.join(dir, `upload-${process.pid}-${randomBytes(8).toString('hex')}`);
  const remove = () => fs.promises.rm(file, { force: true });
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) done(new TooLarge());
      else done(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await remove();
    if (error instanceof TooLarge) throw tooLarge(maxBytes);
    throw error;
  }
  return { file, bytes, remove };
}

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `the file is larger than ${maxBytes} bytes`);
}

/**
 * The uploaded file's name, which names a scan whose file has no SOP Instance UID: `?fileName=`,
 * else `X-File-Name` (percent-encoded if not ASCII), else `Content-Disposition: ...; filename=`.
 * Only the base name is kept.
 */
export function uploadFileName(req: FastifyRequest): string | undefined {
  const query = req.query;
  const fromQuery = typeof query === 'object' && query !== null ? Reflect.get(query, 'fileName') : undefined;
  const header = req.headers['x-file-name'];
  const disposition = req.headers['content-disposition'];
  const raw =
    (typeof fromQuery === 'string' && fromQuery) ||
    (typeof header === 'string' && header && decodePercent(header)) ||
    (disposition && dispositionFileName(disposition)) ||
    undefined;
  if (!raw) return undefined;
  const base = raw.split(/[\\/]/).pop();
  return base || undefined;
}

/** `filename*=UTF-8''...` (RFC 6266) wins over `filename="..."`. */
export function dispositionFileName(value: string): string | undefined {
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(value);
  if (extended?.[1]) return decodePercent(extended[1].trim());
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(value);
  if (quoted?.[1]) return quoted[1].replace(/\\(.)/g, '$1');
  const bare = /filename\s*=\s*([^;\s]+)/i.exec(value);
  return bare?.[1];
}

function decodePercent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
