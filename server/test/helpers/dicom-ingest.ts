import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { RunningServer } from '../../src/main.js';

/** What an upload answered: status and parsed JSON body. */
export interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
  headers: Headers;
}

/** POSTs one DICOM file as `application/dicom` over real HTTP. */
export async function uploadDicom(
  server: Pick<RunningServer, 'url'>,
  token: string | undefined,
  bytes: Uint8Array,
  headers: Record<string, string> = {},
  query = '',
): Promise<Answer> {
  const res = await fetch(`${server.url}/api/scans${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/dicom',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: bytes,
  });
  return answer(res);
}

/** POSTs several files as `multipart/form-data`. */
export async function uploadMultipart(
  server: Pick<RunningServer, 'url'>,
  token: string,
  files: Array<{ name: string; bytes: Uint8Array }>,
): Promise<Answer> {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([f.bytes]), f.name);
  const res = await fetch(`${server.url}/api/scans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return answer(res);
}

export async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: Answer['body'] = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

/**
 * GETs a path with a bearer token on a connection of its own (`agent: false` sends
 * `Connection: close`). Why not fetch: a streamed response ends on the server a tick after the
 * client has every byte, and a server closed in that window keeps the pooled keep-alive socket
 * open until its 72 s timeout.
 */
export function getBytes(
  server: Pick<RunningServer, 'url'>,
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      server.url + url,
      { agent: false, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out.set(k, v);
          resolve({
            status: res.statusCode ?? 0,
            headers: out,
            bytes: new Uint8Array(Buffer.concat(chunks)),
          });
        });
      },
    );
    req.on('error', reject);
  });
}

/** Every file under a directory, recursively (names relative to it). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => fs.statSync(path.join(dir, p)).isFile());
}

/** What the server has stored: scan_files rows, stored DICOM files, leftover spool files. */
export async function storedState(server: RunningServer) {
  const dicomDir = path.join(server.config.dataDir, 'dicom');
  const all = filesUnder(dicomDir);
  return {
    rows: await server.stores.scanFiles.count(),
    files: all.filter((p) => !p.startsWith('.tmp')).length,
    temp: all.filter((p) => p.startsWith('.tmp')).length,
  };
}
