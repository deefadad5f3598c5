import type { Kysely } from 'kysely';
import type { OriginalIdentity } from '../export/export-service.js';
import type { Database } from './schema.js';

/**
 * The original identity of each scan imported from the PACS (R-PACS-6): kept so the consensus
 * SR goes back filed with the patient's study (R-PUSH-4). No route reads this store.
 */
export class PacsOriginsStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Keeps the first identity of a scan: the same de-identified image has one original. */
  async put(scanId: string, origin: OriginalIdentity): Promise<void> {
    await this.db
      .insertInto('pacs_origins')
      .values({
        scan_id: scanId,
        study_uid: origin.studyInstanceUid,
        series_uid: origin.seriesInstanceUid,
        sop_uid: origin.sopInstanceUid,
        sop_class_uid: origin.sopClassUid,
        patient: JSON.stringify(origin.patient),
        study: JSON.stringify(origin.study),
      })
      .onConflict((c) => c.column('scan_id').doNothing())
      .execute();
  }

  async get(scanId: string): Promise<OriginalIdentity | undefined> {
    const row = await this.db
      .selectFrom('pacs_origins')
      .selectAll()
      .where('scan_id', '=', scanId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      studyInstanceUid: row.study_uid,
      seriesInstanceUid: row.series_uid,
      sopInstanceUid: row.sop_uid,
      sopClassUid: row.sop_class_uid,
      patient: JSON.parse(row.patient) as Record<string, string>,
      study: JSON.parse(row.study) as Record<string, string>,
    };
  }
}
