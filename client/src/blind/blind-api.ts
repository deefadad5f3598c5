import { ApiErrorBodySchema } from '@cxr/shared';
import { ApiError } from '../app/api.js';

/**
 * The blind stage's HTTP routes (progress, reveal, disputes, agreement) and the exports. Kept
 * apart from `app/api.ts` so the live-panel work there and this stage do not collide. Answers
 * are checked field by field: a server that answers something else is an `ApiError`.
 */

export interface ReaderProgressRow {
  readonly userId: string;
  readonly done: boolean;
}
export interface ScanProgress {
  readonly scanId: string;
  readonly readers: readonly ReaderProgressRow[];
}
export interface Progress {
  readonly stage: 'blind' | 'consensus';
  readonly scans: readonly ScanProgress[];
}

export type Dispute =
  | { readonly kind: 'below-quorum'; readonly findingId: string; readonly share: number }
  | { readonly kind: 'label-conflict'; readonly findingIds: readonly string[]; readonly iou: number };

export interface LabelAgreement {
  readonly label: string;
  readonly kappa: number | null;
  readonly alpha: number | null;
  readonly positives: number;
  readonly ratings: number;
}
export interface GlobalAgreement {
  readonly perLabel: readonly LabelAgreement[];
  readonly alpha: number | null;
}
export interface PairF1 {
  readonly readerA: string;
  readonly readerB: string;
  readonly f1: number | null;
}
export interface Agreement {
  readonly perScan: readonly {
    readonly scanId: string;
    readonly globals: GlobalAgreement;
    readonly boxes: { readonly pairs: readonly PairF1[]; readonly meanF1: number | null };
  }[];
  readonly session: { readonly globals: GlobalAgreement };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const bad = (what: string) => new ApiError(0, 'bad_response', `unexpected ${what} answer`);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function send(token: string, method: string, path: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, { method, headers: { authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  if (!response.ok) {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = ApiErrorBodySchema.safeParse(json);
    throw error.success
      ? new ApiError(response.status, error.data.error.code, error.data.error.message)
      : new ApiError(response.status, 'http', `HTTP ${response.status}`);
  }
  return response;
}

async function json(token: string, method: string, path: string): Promise<unknown> {
  return (await send(token, method, path)).json();
}

const sessionPath = (sessionId: string) => `/api/sessions/${encodeURIComponent(sessionId)}`;

export async function fetchProgress(token: string, sessionId: string): Promise<Progress> {
  const body = await json(token, 'GET', `${sessionPath(sessionId)}/progress`);
  if (!isRecord(body) || !Array.isArray(body.scans)) throw bad('progress');
  const scans = body.scans.flatMap((s): ScanProgress[] =>
    isRecord(s) && typeof s.scanId === 'string' && Array.isArray(s.readers)
      ? [
          {
            scanId: s.scanId,
            readers: s.readers.flatMap((r) =>
              isRecord(r) && typeof r.userId === 'string'
                ? [{ userId: r.userId, done: r.done === true }]
                : [],
            ),
          },
        ]
      : [],
  );
  return { stage: body.stage === 'consensus' ? 'consensus' : 'blind', scans };
}

export async function reveal(token: string, sessionId: string): Promise<{ proposals: number }> {
  const body = await json(token, 'POST', `${sessionPath(sessionId)}/reveal`);
  if (!isRecord(body)) throw bad('reveal');
  return { proposals: num(body.proposals) ?? 0 };
}

export async function fetchDisputes(token: string, sessionId: string, scanId: string): Promise<Dispute[]> {
  const body = await json(
    token,
    'GET',
    `${sessionPath(sessionId)}/scans/${encodeURIComponent(scanId)}/disputes`,
  );
  if (!isRecord(body) || !Array.isArray(body.disputes)) throw bad('disputes');
  return body.disputes.flatMap((d): Dispute[] => {
    if (!isRecord(d)) return [];
    if (d.kind === 'below-quorum' && typeof d.findingId === 'string')
      return [{ kind: 'below-quorum', findingId: d.findingId, share: num(d.share) ?? 0 }];
    if (d.kind === 'label-conflict' && Array.isArray(d.findingIds))
      return [
        {
          kind: 'label-conflict',
          findingIds: d.findingIds.filter((x): x is string => typeof x === 'string'),
          iou: num(d.iou) ?? 0,
        },
      ];
    return [];
  });
}

function parseGlobals(value: unknown): GlobalAgreement {
  const v = isRecord(value) ? value : {};
  const perLabel = Array.isArray(v.perLabel)
    ? v.perLabel.flatMap((l): LabelAgreement[] =>
        isRecord(l) && typeof l.label === 'string'
          ? [
              {
                label: l.label,
                kappa: num(l.kappa),
                alpha: num(l.alpha),
                positives: num(l.positives) ?? 0,
                ratings: num(l.ratings) ?? 0,
              },
            ]
          : [],
      )
    : [];
  return { perLabel, alpha: num(v.alpha) };
}

export async function fetchAgreement(token: string, sessionId: string): Promise<Agreement> {
  const body = await json(token, 'GET', `${sessionPath(sessionId)}/agreement`);
  if (!isRecord(body) || !Array.isArray(body.perScan) || !isRecord(body.session)) throw bad('agreement');
  return {
    perScan: body.perScan.flatMap((s) => {
      if (!isRecord(s) || typeof s.scanId !== 'string') return [];
      const boxes = isRecord(s.boxes) ? s.boxes : {};
      const pairs = Array.isArray(boxes.pairs)
        ? boxes.pairs.flatMap((p): PairF1[] =>
            isRecord(p) && typeof p.readerA === 'string' && typeof p.readerB === 'string'
              ? [{ readerA: p.readerA, readerB: p.readerB, f1: num(p.f1) }]
              : [],
          )
        : [];
      return [
        { scanId: s.scanId, globals: parseGlobals(s.globals), boxes: { pairs, meanF1: num(boxes.meanF1) } },
      ];
    }),
    session: { globals: parseGlobals(body.session.globals) },
  };
}

/**
 * Downloads an export: the routes need the bearer token, so a plain link cannot fetch them;
 * the bytes go through a blob URL and a temporary `<a download>`.
 */
export async function downloadExport(token: string, path: string, fileName: string): Promise<number> {
  const response = await send(token, 'GET', path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    // Revoked later, not at once: the browser reads the blob after the click returns.
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
  }
  return blob.size;
}

export const exportPath = {
  session: (sessionId: string, file: string) => `${sessionPath(sessionId)}/export/${file}`,
  sr: (sessionId: string, scanId: string) =>
    `${sessionPath(sessionId)}/scans/${encodeURIComponent(scanId)}/export/sr.dcm`,
};
