import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface ScanRow {
  readonly id: string;
  readonly rows: number;
  readonly columns: number;
  readonly createdBy: string | null;
  readonly createdAt: string;
}

export class ScansStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers a scan by id and size; returns false when the id already exists. */
  async register(input: {
    id: string;
    rows: number;
    columns: number;
    createdBy: string | null;
  }): Promise<boolean> {
    const existing = await this.get(input.id);
    if (existing) return false;
    await this.db
      .insertInto('scans')
      .values({
        id: input.id,
        rows: input.rows,
        columns: input.columns,
        created_by: input.createdBy,
        created_at: new Date().toISOString(),
      })
      .execute();
    return true;
  }

  async get(id: string): Promise<ScanRow | undefined> {
    const row = await this.db.selectFrom('scans').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        rows: row.rows,
        columns: row.columns,
        createdBy: row.created_by,
        createdAt: row.created_at,
      }
    );
  }

  async missing(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('scans')
      .select('id')
      .where('id', 'in', [...ids])
      .execute();
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }
}
