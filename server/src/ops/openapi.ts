import {
  AnalyticsResponseSchema,
  ApiErrorBodySchema,
  CreateSessionSchema,
  CreateUserSchema,
  LoginRequestSchema,
  RegisterScanSchema,
  SessionSchema,
  UserSchema,
} from '@cxr/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImportBodySchema } from '../http/routes/blind-routes.js';
import { UpdateUserSchema } from './access-routes.js';
import { PacsImportRequestSchema, PacsStudiesSchema } from '../http/routes/pacs-routes.js';
import { PacsImportViewSchema } from '../pacs/import-view.js';
import { PacsPushStatusSchema } from '../pacs/sr-push-status.js';

/**
 * The OpenAPI 3.1 document (R-OPS-7), built from the same zod schemas the routes validate with
 * (`z.toJSONSchema`), so the document cannot drift from what the server accepts. Routes are
 * listed here by hand with who may call them; a test fails when a registered `/api` route is
 * missing, the way the permission matrix does.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface Operation {
  readonly method: Method;
  /** The fastify pattern (`/api/sessions/:sessionId`). */
  readonly url: string;
  readonly tag: string;
  readonly summary: string;
  /** Who may call it (the permission matrix checks the same). */
  readonly who: string;
  readonly body?: z.ZodType;
  /** Bodies that are not JSON (DICOM upload): content type -> description. */
  readonly rawBodies?: Readonly<Record<string, string>>;
  readonly ok: { readonly status: number; readonly description: string; readonly schema?: z.ZodType };
  /** Error statuses besides 401 (every route but the public ones) with what they mean. */
  readonly errors?: Readonly<Record<number, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly produces?: string;
  /** No token needed. */
  readonly public?: boolean;
}

const SessionViewSchema = SessionSchema.extend({
  members: z.array(UserSchema.pick({ id: true, username: true, role: true })),
});
const LoginResponseSchema = z.object({ token: z.string(), user: UserSchema });
const ScanSchema = z.object({ id: z.string(), rows: z.number().int(), columns: z.number().int() });
const LockResponseSchema = z.object({
  version: z.number().int(),
  sha256: z.string(),
  lockedBy: z.string(),
  lockedAt: z.string(),
  record: z.record(z.string(), z.unknown()),
});

const PANEL = 'panel members, admins';
const MOD_ADMIN = 'the session’s moderator, admins';
const FORBIDDEN_404 = { 403: 'not allowed for this user', 404: 'no such session or scan' };
const exportOp = (
  file: string,
  who: string,
  produces: string,
  extra: Partial<Operation> = {},
): Operation => ({
  method: 'GET',
  url: `/api/sessions/:sessionId/export/${file}`,
  tag: extra.tag ?? 'exports',
  summary: extra.summary ?? `Export ${file} of the locked consensus`,
  who,
  produces,
  ok: { status: 200, description: file },
  errors: { ...FORBIDDEN_404, 409: 'nothing locked yet (or, for train files, not revealed)' },
  ...(extra.query ? { query: extra.query } : {}),
});

export const OPERATIONS: readonly Operation[] = [
  // health and readiness
  {
    method: 'GET',
    url: '/api/health',
    tag: 'health',
    summary: 'The process is alive',
    who: 'anyone',
    public: true,
    ok: {
      status: 200,
      description: 'alive; `live`: the socket.io live panel is served; `pacs`: a PACS is configured',
      schema: z.object({ status: z.literal('ok'), live: z.boolean(), pacs: z.boolean() }),
    },
  },
  {
    method: 'GET',
    url: '/api/ready',
    tag: 'health',
    summary: 'The database (and Redis when configured) answer',
    who: 'anyone',
    public: true,
    ok: {
      status: 200,
      description: 'ready',
      schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
    },
    errors: { 503: 'a dependency is unreachable (details.checks)' },
  },
  {
    method: 'GET',
    url: '/api/openapi.json',
    tag: 'health',
    summary: 'This document',
    who: 'anyone',
    public: true,
    ok: { status: 200, description: 'OpenAPI 3.1 JSON' },
  },
  {
    method: 'GET',
    url: '/api/docs',
    tag: 'health',
    summary: 'This document as an HTML page',
    who: 'anyone',
    public: true,
    produces: 'text/html',
    ok: { status: 200, description: 'HTML' },
  },
  // auth and users
  {
    method: 'POST',
    url: '/api/auth/login',
    tag: 'auth',
    summary: 'Log in',
    who: 'anyone',
    public: true,
    body: LoginRequestSchema,
    ok: { status: 200, description: 'a bearer token', schema: LoginResponseSchema },
    errors: { 401: 'invalid_credentials', 429: 'rate_limited (Retry-After)' },
  },
  {
    method: 'GET',
    url: '/api/me',
    tag: 'auth',
    summary: 'The logged-in user',
    who: 'any user',
    ok: { status: 200, description: 'the user', schema: z.object({ user: UserSchema }) },
  },
  {
    method: 'POST',
    url: '/api/users',
    tag: 'users',
    summary: 'Create a user',
    who: 'admins',
    body: CreateUserSchema,
    ok: { status: 201, description: 'the user', schema: UserSchema },
    errors: { 403: 'not an admin', 409: 'the username is taken' },
  },
  {
    method: 'GET',
    url: '/api/users',
    tag: 'users',
    summary: 'List users',
    who: 'admins',
    ok: { status: 200, description: 'users', schema: z.object({ users: z.array(UserSchema) }) },
    errors: { 403: 'not an admin' },
  },
  {
    method: 'PATCH',
    url: '/api/users/:userId',
    tag: 'users',
    summary: 'Disable or re-role a user (their connections close at once)',
    who: 'admins, not on their own account',
    body: UpdateUserSchema,
    ok: { status: 200, description: 'the user', schema: UserSchema },
    errors: { 403: 'not an admin, or their own account', 404: 'no such user' },
  },
  {
    method: 'GET',
    url: '/api/admin/audit',
    tag: 'users',
    summary: 'The admin actions’ audit chain, verified',
    who: 'admins',
    ok: { status: 200, description: '{entries, verified, brokenAt?}' },
    errors: { 403: 'not an admin' },
  },
  // sessions
  {
    method: 'POST',
    url: '/api/sessions',
    tag: 'sessions',
    summary: 'Create a reading session',
    who: 'admins; moderators for sessions they moderate',
    body: CreateSessionSchema,
    ok: { status: 201, description: 'the session', schema: SessionViewSchema },
    errors: { 403: 'readers; a moderator naming another moderator' },
  },
  {
    method: 'GET',
    url: '/api/sessions',
    tag: 'sessions',
    summary: 'Sessions the user is on (admins: all)',
    who: 'any user',
    ok: { status: 200, description: 'sessions', schema: z.object({ sessions: z.array(SessionViewSchema) }) },
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId',
    tag: 'sessions',
    summary: 'One session',
    who: PANEL,
    ok: { status: 200, description: 'the session', schema: SessionViewSchema },
    errors: FORBIDDEN_404,
  },
  {
    method: 'DELETE',
    url: '/api/sessions/:sessionId/readers/:userId',
    tag: 'sessions',
    summary: 'Remove a reader from the panel (their connections to it close)',
    who: MOD_ADMIN,
    ok: { status: 204, description: 'removed' },
    errors: { 403: 'not the moderator or an admin', 404: 'no such session, or not a reader' },
  },
  // scans
  {
    method: 'POST',
    url: '/api/scans',
    tag: 'scans',
    summary: 'Register a scan by size (JSON) or import DICOM files',
    who: 'admins, moderators',
    body: RegisterScanSchema,
    rawBodies: {
      'application/dicom': 'one DICOM file (?fileName= names it)',
      'multipart/form-data': 'several DICOM files (207 when some are refused)',
    },
    ok: { status: 201, description: 'the scan (JSON) or the imported scan(s)', schema: ScanSchema },
    errors: {
      403: 'readers',
      409: 'the id exists / another file claims the image id',
      413: 'too large',
      415: 'unsupported media type or transfer syntax',
      422: 'the DICOM file cannot be used',
    },
  },
  {
    method: 'GET',
    url: '/api/scans/:scanId',
    tag: 'scans',
    summary: 'A scan’s size and origin',
    who: 'admins; members of a session with the scan',
    ok: { status: 200, description: 'the scan' },
    errors: FORBIDDEN_404,
  },
  {
    method: 'GET',
    url: '/api/scans/:scanId/dicom',
    tag: 'scans',
    summary: 'The de-identified DICOM file (ETag, Range)',
    who: 'admins; members of a session with the scan',
    produces: 'application/dicom',
    ok: { status: 200, description: 'the file (206 for a range, 304 when unchanged)' },
    errors: { ...FORBIDDEN_404, 416: 'range not satisfiable' },
  },
  {
    method: 'GET',
    url: '/api/scans/:scanId/thumbnail',
    tag: 'scans',
    summary: 'A 256 px PNG thumbnail',
    who: 'admins; members of a session with the scan',
    produces: 'image/png',
    ok: { status: 200, description: 'PNG' },
    errors: FORBIDDEN_404,
  },
  {
    method: 'GET',
    url: '/api/scans/:scanId/preview',
    tag: 'scans',
    summary: 'A quarter-resolution DICOM the viewer paints first (the level shown at fit)',
    who: 'admins; members of a session with the scan',
    produces: 'application/dicom',
    ok: { status: 200, description: 'the preview (304 when unchanged)' },
    errors: { ...FORBIDDEN_404, 404: 'unknown scan, no file, or under 256 px a side (loads whole)' },
  },
  // lock and consensus
  {
    method: 'POST',
    url: '/api/sessions/:sessionId/scans/:scanId/lock',
    tag: 'consensus',
    summary: 'Lock a scan’s consensus (stored with its SHA-256)',
    who: 'the session’s moderator',
    ok: { status: 200, description: 'the locked record', schema: LockResponseSchema },
    errors: { ...FORBIDDEN_404, 409: 'already_locked' },
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/scans/:scanId/consensus',
    tag: 'consensus',
    summary: 'The latest locked consensus record, and where its SR push to the PACS stands',
    who: PANEL,
    ok: {
      status: 200,
      description:
        'the locked record; `pacsPush` null when no PACS is configured or the version is not queued',
      schema: LockResponseSchema.extend({ pacsPush: PacsPushStatusSchema.nullable() }),
    },
    errors: { 403: 'off the panel', 404: 'no such session, or not locked' },
  },
  {
    method: 'POST',
    url: '/api/sessions/:sessionId/scans/:scanId/consensus/pacs-push',
    tag: 'consensus',
    summary: 'Send the locked consensus SR to the PACS again (now; attempts kept). No body.',
    who: 'admins',
    ok: { status: 202, description: 'queued', schema: z.object({ pacsPush: PacsPushStatusSchema }) },
    errors: {
      400: 'validation_failed (a body other than {})',
      403: 'not an admin',
      404: 'no such session or scan, not locked, or pacs_not_configured',
      409: 'already_sent: the PACS acknowledged this version',
    },
  },
  // import from the PACS (R-PACS-*)
  {
    method: 'GET',
    url: '/api/pacs/studies',
    tag: 'pacs',
    summary: 'QIDO-RS study search in the PACS, answered as the PACS answers it (patient names included)',
    who: 'admins, moderators',
    query: {
      PatientID: 'exact patient id (or a PACS wildcard)',
      AccessionNumber: 'accession number',
      StudyDate: 'YYYYMMDD or a range YYYYMMDD-YYYYMMDD',
      ModalitiesInStudy: 'one modality code (DX, CR ...)',
      limit: '1..200, default 50',
    },
    ok: { status: 200, description: 'the studies found', schema: PacsStudiesSchema },
    errors: {
      400: 'validation_failed',
      403: 'not an admin or moderator',
      404: 'pacs_not_configured',
      502: 'pacs_refused: the PACS refused the query',
      503: 'pacs_unavailable: the PACS did not answer',
    },
  },
  {
    method: 'POST',
    url: '/api/pacs/imports',
    tag: 'pacs',
    summary: 'Start a durable import job of whole studies, optionally into a session',
    who: 'admins, moderators (into a session: its moderator or an admin)',
    body: PacsImportRequestSchema,
    ok: {
      status: 202,
      description: 'the job id (Location: its progress)',
      schema: z.object({ id: z.string() }),
    },
    errors: {
      400: 'validation_failed (no UIDs, more than 100, not UIDs)',
      403: 'not allowed for this user or session',
      404: 'no such session, or pacs_not_configured',
    },
  },
  {
    method: 'GET',
    url: '/api/pacs/imports/:id',
    tag: 'pacs',
    summary: 'A PACS import job’s progress, scans and errors',
    who: 'the job’s creator, admins',
    ok: { status: 200, description: 'the job', schema: PacsImportViewSchema },
    errors: { 403: 'not an admin or moderator', 404: 'no such job (or another user’s)' },
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/scans/:scanId/audit',
    tag: 'consensus',
    summary: 'The scan’s hash-chained audit log, verified, and the edits not yet compacted into it',
    who: PANEL,
    ok: { status: 200, description: '{entries, verified, brokenAt?, pendingEdits}' },
    errors: FORBIDDEN_404,
  },
  // blind stage
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/progress',
    tag: 'blind stage',
    summary: 'Which reader finished which scan (nothing else)',
    who: MOD_ADMIN,
    ok: { status: 200, description: '{stage, scans}' },
    errors: { ...FORBIDDEN_404, 409: 'not a blind session' },
  },
  {
    method: 'POST',
    url: '/api/sessions/:sessionId/readings/import',
    tag: 'blind stage',
    summary: 'Import stage-1 readings from VinDr-CXR train CSV files',
    who: MOD_ADMIN,
    body: ImportBodySchema,
    ok: { status: 200, description: '{readings, findings}' },
    errors: { ...FORBIDDEN_404, 409: 'not in the blind stage' },
  },
  {
    method: 'POST',
    url: '/api/sessions/:sessionId/reveal',
    tag: 'blind stage',
    summary: 'End the blind stage: fuse the readings into proposals',
    who: 'the session’s moderator',
    ok: { status: 200, description: '{stage: "consensus", proposals}' },
    errors: { ...FORBIDDEN_404, 409: 'already revealed' },
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/scans/:scanId/disputes',
    tag: 'blind stage',
    summary: 'Findings below quorum and label conflicts',
    who: PANEL,
    ok: { status: 200, description: '{disputes}' },
    errors: FORBIDDEN_404,
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/agreement',
    tag: 'blind stage',
    summary: 'Inter-reader agreement (kappa, alpha, box F1)',
    who: MOD_ADMIN,
    ok: { status: 200, description: 'per scan and per session' },
    errors: { ...FORBIDDEN_404, 409: 'before the reveal' },
  },
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/analytics',
    tag: 'analytics',
    summary: 'Reading analytics per scan, per reader and per reader x scan (R-ANALYTICS-5..9)',
    who: 'the session’s moderator and admins (every reader); a panel reader (their own rows only)',
    query: { format: '`json` (default) or `csv` (one row per reader x scan, RFC 4180)' },
    ok: { status: 200, description: 'JSON figures, or the CSV rows', schema: AnalyticsResponseSchema },
    errors: { 400: 'validation_failed: unknown format', ...FORBIDDEN_404 },
  },
  exportOp('annotations_train.csv', MOD_ADMIN, 'text/csv', {
    tag: 'blind stage',
    summary: 'Every reader’s boxes (VinDr train layout), after the reveal',
  }),
  exportOp('image_labels_train.csv', MOD_ADMIN, 'text/csv', {
    tag: 'blind stage',
    summary: 'Every reader’s labels (VinDr train layout), after the reveal',
  }),
  // exports
  exportOp('annotations_test.csv', PANEL, 'text/csv', { query: { scan: 'one scan only' } }),
  exportOp('image_labels_test.csv', PANEL, 'text/csv', { query: { scan: 'one scan only' } }),
  exportOp('coco.json', PANEL, 'application/json', { query: { scan: 'one scan only' } }),
  exportOp('manifest.json', PANEL, 'application/json'),
  {
    method: 'GET',
    url: '/api/sessions/:sessionId/scans/:scanId/export/sr.dcm',
    tag: 'exports',
    summary: 'DICOM SR (TID 1500) of a locked scan',
    who: PANEL,
    produces: 'application/dicom',
    ok: { status: 200, description: 'the SR file' },
    errors: { ...FORBIDDEN_404, 409: 'not locked', 422: 'the scan has no DICOM file' },
  },
];

/** JSON Schema (2020-12, OpenAPI 3.1's dialect) of what a client sends or receives. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // Transforms have no JSON Schema form: `any` keeps the document buildable. Cross-field
  // refinements are checked by the server only (the route answers 400 validation_failed).
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  const { $schema: _dialect, ...rest } = out;
  return rest;
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorSchema = jsonSchema(ApiErrorBodySchema, 'output');
  for (const op of OPERATIONS) {
    const params = [...op.url.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
    }));
    const query = Object.entries(op.query ?? {}).map(([name, description]) => ({
      name,
      in: 'query',
      required: false,
      description,
      schema: { type: 'string' },
    }));
    const content: Record<string, unknown> = {};
    if (op.body) content['application/json'] = { schema: jsonSchema(op.body, 'input') };
    for (const [type, description] of Object.entries(op.rawBodies ?? {})) {
      content[type] = { schema: { type: 'string', contentEncoding: 'binary', description } };
    }
    const okContent = op.ok.schema
      ? { 'application/json': { schema: jsonSchema(op.ok.schema, 'output') } }
      : op.produces
        ? { [op.produces]: { schema: { type: 'string' } } }
        : undefined;
    const error = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    const responses: Record<string, unknown> = {
      [String(op.ok.status)]: {
        description: op.ok.description,
        ...(okContent ? { content: okContent } : {}),
      },
      ...(op.public ? {} : { 401: error('unauthenticated: no, bad or expired token') }),
      ...(op.body ? { 400: error('bad_request / validation_failed (details lists each problem)') } : {}),
    };
    for (const [status, description] of Object.entries(op.errors ?? {}))
      responses[status] = error(description);
    const path = openApiPath(op.url);
    paths[path] ??= {};
    paths[path][op.method.toLowerCase()] = {
      tags: [op.tag],
      summary: op.summary,
      description: `Who: ${op.who}.`,
      operationId: `${op.method.toLowerCase()}${op.url.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(op.public ? { security: [] } : {}),
      ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
      ...(Object.keys(content).length > 0 ? { requestBody: { required: true, content } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'cxr-consensus',
      version,
      description:
        'Collaborative consensus reading of chest X-rays. Live documents use the y-websocket protocol at /yjs and the live panel socket.io at /socket.io (docs/API.md).',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorSchema },
    },
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The document as one self-contained HTML page rendered here: the CSP forbids outside scripts
 * and this page needs none (a table per operation, schemas as indented JSON).
 */
export function renderDocsPage(doc: Record<string, unknown>): string {
  const sections = OPERATIONS.map((op) => {
    const bodies = op.body ? jsonSchema(op.body, 'input') : undefined;
    const errors = Object.entries(op.errors ?? {})
      .map(([status, text]) => `<li><code>${status}</code> ${escapeHtml(text)}</li>`)
      .join('');
    return `<section id="${escapeHtml(`${op.method}-${op.url}`)}">
<h3><span class="m">${op.method}</span> <code>${escapeHtml(op.url)}</code></h3>
<p>${escapeHtml(op.summary)}. <em>Who:</em> ${escapeHtml(op.who)}.</p>
${bodies ? `<details><summary>request body (JSON Schema)</summary><pre>${escapeHtml(JSON.stringify(bodies, null, 2))}</pre></details>` : ''}
${
  op.rawBodies
    ? `<ul>${Object.entries(op.rawBodies)
        .map(([t, d]) => `<li><code>${escapeHtml(t)}</code>: ${escapeHtml(d)}</li>`)
        .join('')}</ul>`
    : ''
}
<p><code>${op.ok.status}</code> ${escapeHtml(op.ok.description)}</p>${errors ? `<ul>${errors}</ul>` : ''}
</section>`;
  }).join('\n');
  const info = doc.info as { title: string; version: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)} API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
section{border-top:1px solid #ddd;padding:.5rem 0}.m{font-weight:700;color:#05a}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(info.title)} API ${escapeHtml(info.version)}</h1>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Authenticate with
<code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /api/auth/login</code>.</p>
${sections}
</body></html>`;
}

export function openApiRoutes(app: FastifyInstance, version: string): void {
  // Built once: it depends only on the code.
  const doc = buildOpenApi(version);
  const page = renderDocsPage(doc);
  app.get('/api/openapi.json', async () => doc);
  app.get('/api/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
}
