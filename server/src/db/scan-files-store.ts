import type { Photometric, VoiWindow } from '@cxr/shared';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { Database, ScanFilesTable } from './schema.js';

/** What the database knows about a scan's de-identified DICOM file. */
export interface ScanFile {
  readonly scanId: string;
  readonly rows: number;
  readonly columns: number;
  /** SHA-256 of the stored (de-identified) bytes: the file's name on disk and its ETag. */
  readonly sha256: string;
  readonly bytes: number;
  readonly transferSyntaxUid: string;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly pixelRepresentation: 0 | 1;
  readonly photometric: Photometric;
  readonly pixelSpacingMm: [number, number] | null;
  readonly windows: VoiWindow[];
  readonly lossy: boolean;
  readonly deidProfile: string;
  readonly importedBy: string | null;
  readonly importedAt: string;
}

export type NewScanFile = Omit<ScanFile, 'importedAt'>;

/** Why an insert did not happen; the caller decides between "duplicate" and "conflict". */
export type InsertOutcome =
  | { kind: 'inserted'; file: ScanFile }
  | { kind: 'same_content'; file: ScanFile }
  | { kind: 'id_taken'; reason: string };

// JSON columns are parsed, never cast: a hand-edited row fails loudly here.
const SpacingSchema = z.tuple([z.number(), z.number()]).nullable();
const WindowsSchema = z.array(
  z.object({ center: z.number(), width: z.number(), explanation: z.string().optional() }),
);
const PhotometricSchema = z.enum(['MONOCHROME1', 'MONOCHROME2']);

type Row = Selectable<ScanFilesTable> & { rows: number; columns: number };

function toScanFile(row: Row): ScanFile {
  return {
    scanId: row.scan_id,
    rows: row.rows,
    columns: row.columns,
    sha256: row.sha256,
    bytes: Number(row.bytes),
    transferSyntaxUid: row.transfer_syntax_uid,
    bitsAllocated: row.bits_allocated,
    bitsStored: row.bits_stored,
    highBit: row.high_bit,
    pixelRepresentation: row.pixel_representation === 1 ? 1 : 0,
    photometric: PhotometricSchema.parse(row.photometric),
    pixelSpacingMm: SpacingSchema.parse(row.pixel_spacing === null ? null : JSON.parse(row.pixel_spacing)),
    windows: WindowsSchema.parse(JSON.parse(row.windows)).map((w) =>
      w.explanation === undefined
        ? { center: w.center, width: w.width }
        : { ...w, explanation: w.explanation },
    ),
    lossy: row.lossy === 1,
    deidProfile: row.deid_profile,
    importedBy: row.imported_by,
    importedAt: row.imported_at,
  };
}

export class ScanFilesStore {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db
      .selectFrom('scan_files')
      .innerJoin('scans', 'scans.id', 'scan_files.scan_id')
      .selectAll('scan_files')
      .select(['scans.rows', 'scans.columns']);
  }

  async get(scanId: string): Promise<ScanFile | undefined> {
    const row = await this.select().where('scan_files.scan_id', '=', scanId).executeTakeFirst();
    return row && toScanFile(row);
  }

  /** The scan whose stored file has this hash (imports are idempotent by it). */
  async bySha256(sha256: string): Promise<ScanFile | undefined> {
    const row = await this.select().where('scan_files.sha256', '=', sha256).executeTakeFirst();
    return row && toScanFile(row);
  }

  /** Whether any scan still names these stored bytes. */
  async referenced(sha256: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('scan_files')
      .select('scan_id')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row !== undefined;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('scan_files')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Adds the scan and its file in one transaction. A scan registered earlier by size only gets
   * the file attached when the sizes agree. Returns `same_content` when another import of the
   * same upload won a race (the unique content hash), `id_taken` when the id belongs to
   * something else.
   */
  async insert(file: NewScanFile): Promise<InsertOutcome> {
    const importedAt = new Date().toISOString();
    try {
      const taken = await this.db.transaction().execute(async (tx) => {
        const scan = await tx
          .selectFrom('scans')
          .selectAll()
          .where('id', '=', file.scanId)
          .executeTakeFirst();
        if (scan) {
          const attached = await tx
            .selectFrom('scan_files')
            .select('sha256')
            .where('scan_id', '=', file.scanId)
            .executeTakeFirst();
          if (attached) return `scan ${file.scanId} already exists with different content`;
          if (scan.rows !== file.rows || scan.columns !== file.columns) {
            return `scan ${file.scanId} is registered as ${scan.columns} x ${scan.rows}, the file is ${file.columns} x ${file.rows}`;
          }
        } else {
          await tx
            .insertInto('scans')
            .values({
              id: file.scanId,
              rows: file.rows,
              columns: file.columns,
              created_by: file.importedBy,
              created_at: importedAt,
            })
            .execute();
        }
        await tx
          .insertInto('scan_files')
          .values({
            scan_id: file.scanId,
            sha256: file.sha256,
            // Unique: two racing imports of one upload (same stored bytes) cannot both insert.
            content_sha256: file.sha256,
            bytes: file.bytes,
            transfer_syntax_uid: file.transferSyntaxUid,
            bits_allocated: file.bitsAllocated,
            bits_stored: file.bitsStored,
            high_bit: file.highBit,
            pixel_representation: file.pixelRepresentation,
            photometric: file.photometric,
            pixel_spacing: file.pixelSpacingMm ? JSON.stringify(file.pixelSpacingMm) : null,
            windows: JSON.stringify(file.windows),
            lossy: file.lossy ? 1 : 0,
            deid_profile: file.deidProfile,
            imported_by: file.importedBy,
            imported_at: importedAt,
          })
          .execute();
        return undefined;
      });
      if (taken !== undefined) return { kind: 'id_taken', reason: taken };
      return { kind: 'inserted', file: { ...file, importedAt } };
    } catch (error) {
      // A concurrent import of the same upload or id: the constraint decided, now look who won.
      const winner = await this.bySha256(file.sha256);
      if (winner) return { kind: 'same_content', file: winner };
      const byId = await this.get(file.scanId);
      if (byId)
        return { kind: 'id_taken', reason: `scan ${file.scanId} already exists with different content` };
      throw error;
    }
  }
}
