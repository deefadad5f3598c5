import { z } from 'zod';

/**
 * R-EXPORT-6: what a session-wide export covered. Locked scans carry their record's version and
 * SHA-256; unlocked ones are listed as `unlocked` and left out of every file. `digest` is the
 * SHA-256 of the RFC 8785 canonical JSON of `scans` and is what session-wide CSV answers carry
 * in `X-Consensus-SHA256` (a CSV has no room for a hash of its own).
 */
export const ManifestScanSchema = z.discriminatedUnion('status', [
  z.object({
    scanId: z.string(),
    position: z.number().int().nonnegative(),
    status: z.literal('locked'),
    version: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    lockedBy: z.string(),
    lockedAt: z.string(),
  }),
  z.object({ scanId: z.string(), position: z.number().int().nonnegative(), status: z.literal('unlocked') }),
]);
export type ManifestScan = z.infer<typeof ManifestScanSchema>;

export const ManifestFileSchema = z.object({
  name: z.string(),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
  /** For per-scan files (DICOM SR). */
  scanId: z.string().optional(),
});

export const ExportManifestSchema = z.object({
  format: z.literal('cxr-consensus-export/1'),
  sessionId: z.string(),
  sessionName: z.string(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  scans: z.array(ManifestScanSchema),
  /** Files written by the CLI, with their own SHA-256 (absent from the HTTP manifest). */
  files: z.array(ManifestFileSchema).optional(),
});
export type ExportManifest = z.infer<typeof ExportManifestSchema>;
