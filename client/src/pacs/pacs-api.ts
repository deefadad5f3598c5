import { z } from 'zod';
import { type PacsImportView, PacsImportViewSchema, type PacsStudy, PacsStudySchema } from '@cxr/shared';
import { type Api, ApiError } from '../app/api.js';

/**
 * The PACS routes (docs/API.md, "Import from the PACS") as the picker uses them. Answers are
 * parsed, so a server that answers something else is an ApiError shown in the picker.
 */

/** The server's own schemas (shared): what it promises is what the picker checks. */
export const PacsJobSchema = PacsImportViewSchema;
export type PacsJob = PacsImportView;
export type { PacsStudy };

export interface StudyQuery {
  readonly patientId: string;
  readonly accessionNumber: string;
  /** As typed: YYYY-MM-DD or YYYYMMDD, or a range of them with `-` between. */
  readonly studyDate: string;
  readonly modality: string;
}

/** The QIDO-RS query string of the picker's fields; empty fields are left out. */
export function studyQueryString(q: StudyQuery, limit = 50): string {
  const params = new URLSearchParams();
  if (q.patientId.trim()) params.set('PatientID', q.patientId.trim());
  if (q.accessionNumber.trim()) params.set('AccessionNumber', q.accessionNumber.trim());
  const date = dicomDate(q.studyDate);
  if (date) params.set('StudyDate', date);
  if (q.modality.trim()) params.set('ModalitiesInStudy', q.modality.trim().toUpperCase());
  params.set('limit', String(limit));
  return params.toString();
}

/**
 * `2024-03-15` -> `20240315`; a range `2024-03-01 - 2024-03-31` -> `20240301-20240331`, open ends
 * kept (`2024-03-01 -`). Anything else is passed on as typed, for the server to refuse by name.
 */
export function dicomDate(text: string): string {
  const t = text.replace(/\s+/g, '');
  const m = /^(\d{4}-?\d{2}-?\d{2})?(?:(-)(\d{4}-?\d{2}-?\d{2})?)?$/.exec(t);
  if (!m || t === '') return t;
  const day = (d: string | undefined) => (d ?? '').replaceAll('-', '');
  return `${day(m[1])}${m[2] ?? ''}${day(m[3])}`;
}

/** A DICOM date for people: `20240315` -> `2024-03-15`. */
export function shownDate(date: string | null): string {
  return date && /^\d{8}$/.test(date)
    ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}`
    : (date ?? '');
}

/** A person name for people: `DOE^JANE` -> `DOE, JANE`. */
export function shownName(name: string | null): string {
  return (name ?? '').split('^').filter(Boolean).join(', ');
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ApiError(0, 'bad_response', 'the server sent an answer the picker cannot read');
  return parsed.data;
}

export async function pacsConfigured(api: Api): Promise<boolean> {
  const body = await api.request('GET', '/api/health');
  return parse(z.object({ pacs: z.boolean().optional() }), body).pacs === true;
}

export async function searchStudies(api: Api, q: StudyQuery): Promise<PacsStudy[]> {
  const body = await api.request('GET', `/api/pacs/studies?${studyQueryString(q)}`);
  return parse(z.object({ studies: z.array(PacsStudySchema) }), body).studies;
}

export async function startImport(
  api: Api,
  studyInstanceUids: readonly string[],
  sessionId: string,
): Promise<string> {
  const body = await api.request('POST', '/api/pacs/imports', { studyInstanceUids, sessionId });
  return parse(z.object({ id: z.string() }), body).id;
}

export async function importJob(api: Api, id: string): Promise<PacsJob> {
  return parse(PacsJobSchema, await api.request('GET', `/api/pacs/imports/${encodeURIComponent(id)}`));
}
