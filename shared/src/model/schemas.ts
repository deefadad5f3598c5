import { z } from 'zod';
import { GLOBAL_LABELS, LOCAL_LABELS } from './labels.js';

/** A panel has one moderator and at most this many readers. */
export const MAX_READERS = 5;

/** Roles, from most to least powerful. Panel membership is per session, not a role. */
export const RoleSchema = z.enum(['admin', 'moderator', 'reader']);
export type Role = z.infer<typeof RoleSchema>;

/** Ids made by clients (finding ids) and by the server (users, sessions): url-safe, bounded. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'ids use letters, digits and . _ : - only');

export const UsernameSchema = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9._-]+$/, 'usernames use lowercase letters, digits and . _ - only');

export const PasswordSchema = z.string().min(8, 'passwords have at least 8 characters').max(256);

export const UserSchema = z.object({
  id: IdSchema,
  username: UsernameSchema,
  role: RoleSchema,
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof UserSchema>;

export const LocalLabelSchema = z.enum(LOCAL_LABELS);
export const GlobalLabelSchema = z.enum(GLOBAL_LABELS);

const coordinate = z.number().finite();

/** A box in image pixels, origin top-left; independent of zoom, pan and flip. */
export const BoxSchema = z
  .object({ x_min: coordinate, y_min: coordinate, x_max: coordinate, y_max: coordinate })
  .strict()
  .refine((b) => b.x_min < b.x_max, { message: 'x_min must be less than x_max' })
  .refine((b) => b.y_min < b.y_max, { message: 'y_min must be less than y_max' });
export type Box = z.infer<typeof BoxSchema>;

/** Size of the image a box must fit in. */
export interface ImageSize {
  readonly rows: number;
  readonly columns: number;
}

export function boxInsideImage(box: Box, size: ImageSize): boolean {
  return box.x_min >= 0 && box.y_min >= 0 && box.x_max <= size.columns && box.y_max <= size.rows;
}

/** A candidate finding: one or more local labels on one box. Replaced whole on every edit. */
export const FindingSchema = z
  .object({
    id: IdSchema,
    labels: z
      .array(LocalLabelSchema)
      .min(1, 'a finding has at least one label')
      .max(LOCAL_LABELS.length)
      .refine((labels) => new Set(labels).size === labels.length, 'labels must not repeat'),
    box: BoxSchema,
    createdBy: IdSchema,
    updatedBy: IdSchema,
    updatedAt: z.number().finite().nonnegative(),
    /** Set on proposals fused from blind readings: who drew what, and the share of readers. */
    fusion: z
      .object({
        share: z.number().min(0).max(1),
        sources: z
          .array(z.object({ readerId: IdSchema, box: BoxSchema }).strict())
          .min(1)
          .max(MAX_READERS),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Finding = z.infer<typeof FindingSchema>;

/** A proposed global label; the key in `globals` is the label itself. */
export const GlobalProposalSchema = z
  .object({
    label: GlobalLabelSchema,
    proposedBy: IdSchema,
    updatedAt: z.number().finite().nonnegative(),
  })
  .strict();
export type GlobalProposal = z.infer<typeof GlobalProposalSchema>;

/** Whether a panel member has finished reading the scan (the VinDr rules hold when done). */
export const ReaderProgressSchema = z
  .object({ userId: IdSchema, done: z.boolean(), updatedAt: z.number().finite().nonnegative() })
  .strict();
export type ReaderProgress = z.infer<typeof ReaderProgressSchema>;

/** A decision on a finding or a global label, written by the server only. */
export const DecisionSchema = z
  .object({
    target: z.union([
      z.object({ kind: z.literal('finding'), id: IdSchema }).strict(),
      z.object({ kind: z.literal('global'), label: GlobalLabelSchema }).strict(),
    ]),
    outcome: z.enum(['accepted', 'rejected']),
    decidedBy: IdSchema,
    decidedAt: z.number().finite(),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export type Decision = z.infer<typeof DecisionSchema>;

/** Scan-document metadata, written by the server only. */
export const DocMetaSchema = z
  .object({
    locked: z.boolean(),
    lockedAt: z.number().nullable(),
    lockedBy: IdSchema.nullable(),
    consensusHash: z.string().nullable(),
    consensusVersion: z.number().int().nonnegative(),
    unlockedAt: z.number().nullable().optional(),
    unlockedBy: IdSchema.nullable().optional(),
    unlockReason: z.string().nullable().optional(),
    /** A blind reading imported from a VinDr-CXR CSV keeps its `rad_id`. */
    radId: z.string().optional(),
  })
  .strict();
export type DocMeta = z.infer<typeof DocMetaSchema>;

/** A reading session: one moderator, up to five readers, an ordered list of scans. */

/**
 * `live`: the panel reads together from the start. `blind`: each reader first reads each scan
 * alone (stage `blind`); the moderator's reveal fuses the readings into proposals and opens the
 * shared documents (stage `consensus`).
 */
export const SessionModeSchema = z.enum(['live', 'blind']);
export type SessionMode = z.infer<typeof SessionModeSchema>;
export const SessionStageSchema = z.enum(['blind', 'consensus']);
export type SessionStage = z.infer<typeof SessionStageSchema>;

export const CreateSessionSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    moderatorId: IdSchema,
    readerIds: z
      .array(IdSchema)
      .max(MAX_READERS, `a panel has at most ${MAX_READERS} readers`)
      .refine((ids) => new Set(ids).size === ids.length, 'readers must not repeat'),
    scanIds: z
      .array(IdSchema)
      .max(10_000)
      .refine((ids) => new Set(ids).size === ids.length, 'scans must not repeat'),
    mode: SessionModeSchema.default('live'),
    /** IoU above which boxes of one label from different readers are fused (blind mode). */
    fusionIouThreshold: z.number().min(0.05).max(0.95).default(0.4),
  })
  .strict()
  .refine((s) => !s.readerIds.includes(s.moderatorId), {
    message: 'the moderator cannot also be a reader',
    path: ['readerIds'],
  });
export type CreateSession = z.infer<typeof CreateSessionSchema>;

export const SessionScanSchema = z.object({
  scanId: IdSchema,
  position: z.number().int().nonnegative(),
  locked: z.boolean(),
  rows: z.number().int().positive(),
  columns: z.number().int().positive(),
});
export type SessionScan = z.infer<typeof SessionScanSchema>;

export const SessionSchema = z.object({
  id: IdSchema,
  name: z.string(),
  mode: SessionModeSchema,
  stage: SessionStageSchema,
  fusionIouThreshold: z.number(),
  moderatorId: IdSchema,
  readerIds: z.array(IdSchema),
  scans: z.array(SessionScanSchema),
  createdAt: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

export const LoginRequestSchema = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) })
  .strict();
export const CreateUserSchema = z
  .object({ username: UsernameSchema, password: PasswordSchema, role: RoleSchema })
  .strict();

/** Until DICOM import exists a scan can be registered by id and size. */
export const MAX_IMAGE_SIDE = 8192;
export const RegisterScanSchema = z
  .object({
    id: IdSchema,
    rows: z.number().int().min(1).max(MAX_IMAGE_SIDE),
    columns: z.number().int().min(1).max(MAX_IMAGE_SIDE),
  })
  .strict();
