import { z } from 'zod';
import { IdSchema } from '../model/schemas.js';
import { CommandIdSchema } from './socket-events.js';

/**
 * Reading analytics (R-ANALYTICS-*): what a reader's client reports about its own reading over
 * the session's socket.io channel, and what `GET /api/sessions/:id/analytics` answers.
 *
 * The batch names no user: the server takes the reader from the authenticated socket, so a
 * reader can only ever write their own figures (a `userId`/`readerId` key is refused by the
 * strict schema). Nothing here is PHI: ids, counts, times and display settings only.
 */

/** The socket.io event a client sends its capture batch on (ack: `Ack<{stored: boolean}>`). */
export const ANALYTICS_CAPTURE_EVENT = 'analytics:capture' as const;

/**
 * Rate per socket: one batch per this many ms sustained, bursts of `ANALYTICS_BURST` (a retry
 * after a lost ack, a flush on leaving a scan); beyond that the batch is refused `rate_limited`.
 */
export const ANALYTICS_MIN_INTERVAL_MS = 2000;
export const ANALYTICS_BURST = 3;
/** What a client should aim for: one batch every few seconds at most, and only when non-empty. */
export const ANALYTICS_SEND_INTERVAL_MS = 5000;
/** A batch larger than this (UTF-8 JSON) is refused with `payload_too_large`. */
export const ANALYTICS_MAX_BATCH_BYTES = 16 * 1024;
/** Scans per batch (a reader rarely touches more than one or two in five seconds). */
export const ANALYTICS_MAX_SCANS = 8;
/** Finding view records per scan entry. */
export const ANALYTICS_MAX_FINDING_VIEWS = 64;
/** Distinct tool names per scan entry. */
export const ANALYTICS_MAX_TOOLS = 16;
/**
 * Active time one scan entry may add: a client batches every few seconds, so ten minutes is
 * generous slack for a reconnect backlog while keeping one forged batch from inventing hours.
 */
export const ANALYTICS_MAX_ACTIVE_MS = 10 * 60_000;
/** Client timestamps must lie within this window before `sentAt` (and not after it, +5 s). */
export const ANALYTICS_MAX_AGE_MS = 60 * 60_000;
/** No input for this long and the reader counts as idle (R-ANALYTICS-2). */
export const ANALYTICS_IDLE_MS = 30_000;

/**
 * Window presets the viewer offers (`default`: the file's own window or auto), or `manual` once
 * the reader dragged the window away from one.
 */
export const VIEWER_PRESETS = ['default', 'lung', 'mediastinum', 'bone', 'auto', 'manual'] as const;
export const ViewerPresetSchema = z.enum(VIEWER_PRESETS);
export type ViewerPreset = z.infer<typeof ViewerPresetSchema>;

/** The display state at the moment a finding was created or changed. */
export const ViewerStateSchema = z
  .object({
    windowCenter: z.number().finite().min(-1e6).max(1e6),
    windowWidth: z.number().finite().positive().max(1e6),
    preset: ViewerPresetSchema,
    /** Screen pixels per image pixel. */
    zoom: z.number().finite().positive().max(1000),
    invert: z.boolean(),
  })
  .strict();
export type ViewerState = z.infer<typeof ViewerStateSchema>;

const clientTime = z.number().int().nonnegative().max(8.64e15);

export const FindingViewSchema = z
  .object({
    findingId: IdSchema,
    action: z.enum(['created', 'changed']),
    /** Client clock (epoch ms); the server shifts it by `receivedAt - sentAt`. */
    at: clientTime,
    view: ViewerStateSchema,
  })
  .strict();
export type FindingView = z.infer<typeof FindingViewSchema>;

/** Tool names are the client's own short ids (`draw`, `wl`, `pan`, `preset-lung`, ...). */
export const ToolNameSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9._-]+$/, 'tool names use lowercase letters, digits and . _ - only');

export const ScanCaptureSchema = z
  .object({
    scanId: IdSchema,
    /** Active reading time since the previous batch (see `accumulateActiveTime`). */
    activeMs: z.number().int().min(0).max(ANALYTICS_MAX_ACTIVE_MS),
    /** When the reader opened this scan (client clock), sent with the first batch after opening. */
    openedAt: clientTime.optional(),
    /** Uses of each tool since the previous batch. */
    tools: z
      .record(ToolNameSchema, z.number().int().min(0).max(10_000))
      .refine((t) => Object.keys(t).length <= ANALYTICS_MAX_TOOLS, `at most ${ANALYTICS_MAX_TOOLS} tools`)
      .default({}),
    findingViews: z.array(FindingViewSchema).max(ANALYTICS_MAX_FINDING_VIEWS).default([]),
  })
  .strict();
export type ScanCapture = z.infer<typeof ScanCaptureSchema>;

export const AnalyticsCaptureSchema = z
  .object({
    /** Client-made; a retried batch with the same id is stored once. */
    batchId: CommandIdSchema,
    /** Client clock when the batch was sent: lets the server correct clock skew. */
    sentAt: clientTime,
    scans: z
      .array(ScanCaptureSchema)
      .min(1)
      .max(ANALYTICS_MAX_SCANS)
      .refine((s) => new Set(s.map((x) => x.scanId)).size === s.length, 'one entry per scan'),
  })
  .strict();
export type AnalyticsCapture = z.infer<typeof AnalyticsCaptureSchema>;
/** What a client passes to `socket.emit(ANALYTICS_CAPTURE_EVENT, batch, ack)`. */
export type AnalyticsCaptureInput = z.input<typeof AnalyticsCaptureSchema>;
/** `stored: false` when the batch id was seen before (a retry): nothing was added twice. */
export type AnalyticsCaptureAck =
  | { ok: true; stored: boolean }
  | { ok: false; error: { code: string; message: string } };

// ---- GET /api/sessions/:sessionId/analytics ----

const ms = z.number().nullable();
const ratio = z.number().min(0).max(1).nullable();

/** Per scan: how the consensus was reached. Times in ms; null when the fact is missing. */
export const ScanFiguresSchema = z.object({
  scanId: z.string(),
  locked: z.boolean(),
  /** Blind sessions: from the first reader opening the scan to the reveal. */
  blindMs: ms,
  /** Blind sessions: from the reveal to the (first) lock. */
  revealToLockMs: ms,
  votes: z.number().int(),
  disputedVotes: z.number().int(),
  /** Findings in the locked record that were not fused proposals of the reveal. */
  addedAfterReveal: z.number().int().nullable(),
  /** Fused proposals the locked record rejects or no longer holds. */
  removedAfterReveal: z.number().int().nullable(),
  consensusFindings: z.number().int().nullable(),
  /** Sum of the readers' active time on this scan. */
  activeMs: z.number(),
});
export type ScanFigures = z.infer<typeof ScanFiguresSchema>;

/** Per reader, over the scans of the session. Ratios are null when undefined (0/0). */
export const ReaderFiguresSchema = z.object({
  readerId: z.string(),
  username: z.string(),
  scansRead: z.number().int(),
  activeMsTotal: z.number(),
  readingMsMedian: ms,
  readingMsP90: ms,
  timeToFirstFindingMsMedian: ms,
  findings: z.number().int(),
  survived: z.number().int(),
  survival: ratio,
  precision: ratio,
  recall: ratio,
  f1: ratio,
  /** Mean over locked scans of the share of global labels on which reader and consensus agree. */
  globalAgreement: ratio,
  tools: z.record(z.string(), z.number()),
});
export type ReaderFigures = z.infer<typeof ReaderFiguresSchema>;

/** One reader x scan: the same columns as the CSV, in this order. */
export const AnalyticsRowSchema = z.object({
  sessionId: z.string(),
  scanId: z.string(),
  readerId: z.string(),
  username: z.string(),
  activeMs: z.number(),
  timeToFirstFindingMs: ms,
  findings: z.number().int(),
  survived: z.number().int().nullable(),
  consensusFindings: z.number().int().nullable(),
  precision: ratio,
  recall: ratio,
  f1: ratio,
  globalAgreement: ratio,
  toolUses: z.number().int(),
  /** `draw=3;wl=2`, sorted by tool name. */
  tools: z.string(),
});
export type AnalyticsRow = z.infer<typeof AnalyticsRowSchema>;

export const ANALYTICS_CSV_COLUMNS = [
  'session_id',
  'scan_id',
  'reader_id',
  'username',
  'active_ms',
  'time_to_first_finding_ms',
  'findings',
  'survived',
  'consensus_findings',
  'precision',
  'recall',
  'f1',
  'global_agreement',
  'tool_uses',
  'tools',
] as const;

export const LabelDisputesSchema = z.object({
  label: z.string(),
  votes: z.number().int(),
  disputes: z.number().int(),
});
export type LabelDisputes = z.infer<typeof LabelDisputesSchema>;

/** The display state a reader's finding was last drawn or changed in, and whether it survived. */
export const WlPointSchema = z.object({
  readerId: z.string(),
  scanId: z.string(),
  findingId: z.string(),
  label: z.string(),
  survived: z.boolean(),
  windowCenter: z.number(),
  windowWidth: z.number(),
  preset: ViewerPresetSchema,
  zoom: z.number(),
  invert: z.boolean(),
});
export type WlPoint = z.infer<typeof WlPointSchema>;

export const AnalyticsSessionSchema = z.object({
  id: z.string(),
  name: z.string(),
  mode: z.enum(['live', 'blind']),
  stage: z.enum(['blind', 'consensus']),
  revealedAt: z.number().nullable(),
  readerIds: z.array(z.string()),
  /** `all`: moderator or admin; `own`: a reader sees only their own rows (R-ANALYTICS-5). */
  scope: z.enum(['all', 'own']),
  generatedAt: z.number(),
});

export const AnalyticsResponseSchema = z.object({
  session: AnalyticsSessionSchema,
  scans: z.array(ScanFiguresSchema),
  readers: z.array(ReaderFiguresSchema),
  rows: z.array(AnalyticsRowSchema),
  disputesByLabel: z.array(LabelDisputesSchema),
  wlBySurvival: z.array(WlPointSchema),
});
export type AnalyticsResponse = z.infer<typeof AnalyticsResponseSchema>;
