import pg from 'pg';
import { type Stores, openStores } from '../../src/db/stores.js';
import { PG_URL, pgSchemaName, tempDir } from './test-server.js';

export interface StorageBackend {
  readonly name: 'sqlite' | 'postgres';
  /** Fresh, migrated stores; `drop` removes what the test created. */
  open(): Promise<{ stores: Stores; drop: () => Promise<void> }>;
}

/** Every storage back end a contract suite runs against: SQLite in a temp dir, PostgreSQL in its own schema. */
export const STORAGE_BACKENDS: readonly StorageBackend[] = [
  {
    name: 'sqlite',
    open: async () => ({
      stores: await openStores({ sqliteFile: `${tempDir()}/contract.sqlite` }),
      drop: async () => {},
    }),
  },
  {
    name: 'postgres',
    open: async () => {
      const schema = pgSchemaName();
      const stores = await openStores({ databaseUrl: PG_URL, pgSchema: schema });
      return {
        stores,
        drop: async () => {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          await client.query(`DROP SCHEMA ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  },
];
