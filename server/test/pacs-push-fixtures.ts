import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { OrthancProcess } from './helpers/orthanc.js';
import { type Api, tempDir } from './helpers/test-server.js';

/** The SR push status in `GET .../consensus`, as the API answers it. */
export interface PushView {
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
}

/** `pacsPush` of a scan's consensus (null when not queued; fails the test on any other answer). */
export async function pushOf(api: Api, sessionId: string, scanId: string): Promise<PushView | null> {
  const res = await api.call('GET', `/api/sessions/${sessionId}/scans/${scanId}/consensus`);
  if (res.status !== 200) throw new Error(`consensus: ${res.status} ${JSON.stringify(res.body)}`);
  expect(res.body).toHaveProperty('pacsPush');
  return res.body.pacsPush as PushView | null;
}

/** Polls the push status until `accept` holds (never sleeps a fixed time). */
export async function waitForPush(
  api: Api,
  sessionId: string,
  scanId: string,
  accept: (push: PushView | null) => boolean,
  timeoutMs = 15_000,
): Promise<PushView> {
  let last: PushView | null = null;
  await expect
    .poll(
      async () => {
        last = await pushOf(api, sessionId, scanId);
        return accept(last);
      },
      { timeout: timeoutMs, interval: 50 },
    )
    .toBe(true);
  if (!last) throw new Error('no push status');
  return last;
}

/** One SR instance the PACS holds, as QIDO-RS lists it. */
export interface SrInstance {
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

/** QIDO-RS `/instances?Modality=SR` on the PACS. */
export async function srInstances(pacs: OrthancProcess): Promise<SrInstance[]> {
  const res = await fetch(`${pacs.dicomWebUrl}/instances?Modality=SR`, {
    headers: { accept: 'application/dicom+json' },
  });
  if (res.status === 204) return [];
  expect(res.status).toBe(200);
  const items = (await res.json()) as Array<Record<string, { Value?: unknown[] }>>;
  const value = (item: Record<string, { Value?: unknown[] }>, tag: string) => String(item[tag]?.Value?.[0]);
  return items.map((item) => ({
    sopInstanceUid: value(item, '00080018'),
    studyInstanceUid: value(item, '0020000D'),
    seriesInstanceUid: value(item, '0020000E'),
  }));
}

/** The Part 10 bytes the PACS holds for one SOP Instance UID (Orthanc's REST API). */
export async function pacsFile(pacs: OrthancProcess, sopInstanceUid: string): Promise<Uint8Array> {
  const res = await fetch(`${pacs.restUrl}/tools/lookup`, { method: 'POST', body: sopInstanceUid });
  const found = (await res.json()) as Array<{ ID: string; Type: string }>;
  const instance = found.find((f) => f.Type === 'Instance');
  if (!instance) throw new Error(`the PACS holds no instance ${sopInstanceUid}`);
  return pacs.fileOf(instance.ID);
}

/** Writes bytes to a temporary file (for DCMTK). */
export function toFile(bytes: Uint8Array, name: string): string {
  const file = path.join(tempDir('cxr-push-'), name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** One attribute's value as dcmdump prints it, e.g. `[2.25.123]` -> `2.25.123`. */
export function dcmValue(file: string, tag: string): string {
  const out = execFileSync('dcmdump', ['+P', tag, file], { encoding: 'utf8' });
  const match = /\[([^\]]*)\]/.exec(out);
  if (!match) throw new Error(`no ${tag} in ${file}: ${out}`);
  return match[1]!;
}

/** dsrdump's reading of an SR (content tree with codes and UIDs). */
export function dsrdump(file: string): string {
  return execFileSync('dsrdump', ['+Pl', '+Pu', '+Pc', '+Pt', file], { encoding: 'utf8' });
}

/** A Lua filter that makes Orthanc refuse every STOW-RS (HTTP 403), as a PACS refusing us does. */
export function refusingLua(): string {
  const file = path.join(tempDir('cxr-lua-'), 'refuse-stow.lua');
  fs.writeFileSync(
    file,
    [
      'function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)',
      "  if method == 'POST' and string.find(uri, '/dicom-web/', 1, true) == 1 then",
      '    return false',
      '  end',
      '  return true',
      'end',
      '',
    ].join('\n'),
  );
  return file;
}
