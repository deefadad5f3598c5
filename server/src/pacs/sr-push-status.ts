import { z } from 'zod';
import type { OutboxRow } from '../db/pacs-outbox-store.js';

/**
 * Where a locked consensus stands on its way to the PACS (R-PUSH-6), as
 * `GET .../consensus` (`pacsPush`) and `POST .../consensus/pacs-push` answer it.
 */
export const PacsPushStatusSchema = z
  .object({
    state: z.enum(['pending', 'sent', 'failed']),
    /** STOW-RS requests made so far. */
    attempts: z.number().int().nonnegative(),
    /** Why the last attempt did not store the SR (null once sent, or before any attempt). */
    lastError: z.string().nullable(),
    /** ISO time the PACS acknowledged the SR. */
    sentAt: z.string().nullable(),
  })
  .strict();
export type PacsPushStatus = z.infer<typeof PacsPushStatusSchema>;

export function pushStatus(row: OutboxRow): PacsPushStatus {
  return { state: row.state, attempts: row.attempts, lastError: row.lastError, sentAt: row.sentAt };
}
