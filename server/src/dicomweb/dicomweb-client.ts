import type { DicomWebPeer } from '../config.js';
import {
  type DicomJson,
  DicomJsonListSchema,
  DicomJsonSchema,
  JSON_TAG,
  jsonItems,
  jsonString,
} from './dicom-json.js';
import { boundaryOf, multipartRelated, splitMultipart } from './multipart-related.js';

/**
 * Why a DICOMweb call failed. `unavailable`: the peer did not answer, timed out or answered
 * 5xx/429 (try again later); `refused`: it answered 4xx to a well-formed request (our data or
 * our credentials; trying again will not help); `not_found`: 404; `bad_response`: an answer we
 * cannot read.
 */
export type DicomWebFailure = 'unavailable' | 'refused' | 'not_found' | 'bad_response';

export class DicomWebError extends Error {
  constructor(
    readonly kind: DicomWebFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DicomWebError';
  }
}

/** One instance a QIDO-RS instance search found. */
export interface InstanceRef {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/** What STOW-RS reports: instances stored, and instances refused with the peer's reason. */
export interface StowOutcome {
  readonly stored: string[];
  readonly failed: Array<{ sopInstanceUid: string | undefined; reason: string }>;
}

export interface DicomWebClientOptions {
  readonly timeoutMs: number;
}

/**
 * A DICOMweb client (QIDO-RS search, WADO-RS instance retrieve, STOW-RS store) over fetch.
 * Every failure is a DicomWebError; messages carry status codes and paths, never query values,
 * which may be patient identifiers.
 */
export class DicomWebClient {
  constructor(
    readonly peer: DicomWebPeer,
    private readonly options: DicomWebClientOptions,
  ) {}

  /** QIDO-RS `/studies`: the studies matching the query (keys are DICOM keywords or tags). */
  async searchStudies(query: Readonly<Record<string, string>>, limit: number): Promise<DicomJson[]> {
    const params = new URLSearchParams(query);
    params.set('limit', String(limit));
    for (const field of ['StudyDescription', 'NumberOfStudyRelatedInstances', 'ModalitiesInStudy']) {
      params.append('includefield', field);
    }
    return this.searchJson(`/studies?${params}`);
  }

  /** QIDO-RS `/studies/{uid}/instances`: every instance of one study. */
  async searchInstances(studyInstanceUid: string): Promise<InstanceRef[]> {
    const items = await this.searchJson(`/studies/${encodeUid(studyInstanceUid)}/instances`);
    return items.flatMap((item) => {
      const series = jsonString(item, JSON_TAG.SeriesInstanceUID);
      const sop = jsonString(item, JSON_TAG.SOPInstanceUID);
      return series && sop ? [{ studyInstanceUid, seriesInstanceUid: series, sopInstanceUid: sop }] : [];
    });
  }

  /** WADO-RS instance retrieve, as stored (`transfer-syntax=*`): the Part 10 file's bytes. */
  async retrieveInstance(ref: InstanceRef): Promise<Uint8Array> {
    const path = `/studies/${encodeUid(ref.studyInstanceUid)}/series/${encodeUid(ref.seriesInstanceUid)}/instances/${encodeUid(ref.sopInstanceUid)}`;
    const res = await this.request('GET', path, {
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
    });
    const body = new Uint8Array(await this.readBody(res, path));
    const type = res.headers.get('content-type') ?? '';
    if (/^application\/dicom\b/i.test(type)) return body;
    const boundary = boundaryOf(type);
    if (!/^multipart\/related\b/i.test(type) || !boundary) {
      throw new DicomWebError('bad_response', `WADO-RS ${path} answered ${type || 'no content type'}`);
    }
    let parts: Uint8Array[];
    try {
      parts = splitMultipart(body, boundary);
    } catch (error) {
      throw new DicomWebError('bad_response', `WADO-RS ${path}: ${(error as Error).message}`);
    }
    if (parts.length !== 1) {
      throw new DicomWebError('bad_response', `WADO-RS ${path} answered ${parts.length} parts, not 1`);
    }
    return parts[0]!;
  }

  /** STOW-RS `POST /studies`: stores instances, each given as consecutive byte parts. */
  async store(instances: readonly (readonly Uint8Array[])[]): Promise<StowOutcome> {
    const body = multipartRelated(instances);
    const res = await this.request(
      'POST',
      '/studies',
      { accept: 'application/dicom+json', 'content-type': body.contentType },
      new Blob(body.chunks),
      // 200 all stored, 202 some refused, 409 all refused; the last two carry the reasons.
      [409],
    );
    const text = await this.readText(res, '/studies');
    const outcome = parseStowAnswer(text);
    if (res.status === 409 && outcome.failed.length === 0) {
      throw new DicomWebError('refused', `STOW-RS answered 409: ${text.slice(0, 200)}`, 409);
    }
    return outcome;
  }

  private async searchJson(path: string): Promise<DicomJson[]> {
    const res = await this.request('GET', path, { accept: 'application/dicom+json' });
    // QIDO-RS answers 204 with no body when nothing matches.
    if (res.status === 204) return [];
    const text = await this.readText(res, path.split('?')[0]!);
    if (text.trim() === '') return [];
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DicomWebError(
        'bad_response',
        `QIDO-RS ${path.split('?')[0]} answered something other than JSON`,
      );
    }
    const parsed = DicomJsonListSchema.safeParse(json);
    if (!parsed.success)
      throw new DicomWebError('bad_response', `QIDO-RS ${path.split('?')[0]} answered no DICOM JSON list`);
    return parsed.data;
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: Blob,
    alsoAccepted: readonly number[] = [],
  ): Promise<Response> {
    const where = `${method} ${path.split('?')[0]}`;
    let res: Response;
    try {
      res = await fetch(this.peer.url + path, {
        method,
        headers: { ...headers, ...authHeader(this.peer) },
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const cause =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new DicomWebError('unavailable', `${where}: ${cause}`);
    }
    if (res.ok || alsoAccepted.includes(res.status)) return res;
    // Drain so the connection can be reused.
    const detail = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    const message = `${where} answered ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw new DicomWebError('unavailable', message, res.status);
    }
    if (res.status === 404) throw new DicomWebError('not_found', message, 404);
    throw new DicomWebError('refused', message, res.status);
  }

  private async readBody(res: Response, path: string): Promise<ArrayBuffer> {
    try {
      return await res.arrayBuffer();
    } catch (error) {
      throw new DicomWebError('unavailable', `${path}: the answer broke off (${(error as Error).message})`);
    }
  }

  private async readText(res: Response, path: string): Promise<string> {
    return Buffer.from(await this.readBody(res, path)).toString('utf8');
  }
}

function authHeader(peer: DicomWebPeer): Record<string, string> {
  switch (peer.auth?.kind) {
    case undefined:
      return {};
    case 'bearer':
      return { authorization: `Bearer ${peer.auth.token}` };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${peer.auth.user}:${peer.auth.password}`).toString('base64')}`,
      };
  }
}

/** A UID in a URL path: UIDs are digits and dots, anything else is refused before sending. */
function encodeUid(uid: string): string {
  if (!/^[0-9.]{1,64}$/.test(uid)) throw new DicomWebError('refused', 'not a DICOM UID');
  return uid;
}

/** The stored and failed instances of a STOW-RS answer (PS3.18 10.5.3). */
export function parseStowAnswer(text: string): StowOutcome {
  let json: unknown;
  try {
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { stored: [], failed: [] };
  }
  // Some servers wrap the one dataset in a list.
  const parsed = DicomJsonSchema.safeParse(Array.isArray(json) ? json[0] : json);
  if (!parsed.success) return { stored: [], failed: [] };
  const stored = jsonItems(parsed.data, JSON_TAG.ReferencedSOPSequence).flatMap((item) => {
    const uid = jsonString(item, JSON_TAG.ReferencedSOPInstanceUID);
    return uid ? [uid] : [];
  });
  const failed = jsonItems(parsed.data, JSON_TAG.FailedSOPSequence).map((item) => ({
    sopInstanceUid: jsonString(item, JSON_TAG.ReferencedSOPInstanceUID),
    reason: `failure reason ${jsonString(item, JSON_TAG.FailureReason) ?? 'not given'}`,
  }));
  return { stored, failed };
}
