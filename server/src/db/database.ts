import fs from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, type Driver, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { startCheckpointer } from './checkpointer.js';
import { openSqliteConnection } from './sqlite-connection.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** The SQLite connection itself, for the update path's prepared statements. */
  readonly sqlite?: SQLite.Database | undefined;
  /** The SQLite file, when there is one another connection can open (not `:memory:`). */
  readonly sqliteFile?: string | undefined;
  close(): Promise<void>;
}

export interface DbOptions {
  /** PostgreSQL connection string; when absent, SQLite at `sqliteFile`. */
  readonly databaseUrl?: string | undefined;
  readonly sqliteFile?: string;
  /** PostgreSQL schema to use (tests isolate themselves in one); created if missing. */
  readonly pgSchema?: string;
}

// BIGINT (int8) comes back as a string by default; our sequence numbers fit in a double.
pg.types.setTypeParser(20, (value: string) => Number.parseInt(value, 10));

/**
 * Kysely's SQLite transactions begin DEFERRED: they read, await, then write. With a second
 * connection writing (the update writer's thread) such a transaction fails when it upgrades
 * to write after the other committed; taking the write lock at BEGIN makes it wait its turn.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

/**
 * How often the checkpoint thread copies the WAL into the database. Often enough that a copy
 * regularly catches up with the writers, which lets the next writer rewind the log: at 1 s, a
 * room per core writing 30 moves/s never let it catch up, the log hit the truncation bound
 * every 4 s and each truncation held every writer for 26-28 ms (the collab bench's p99); at
 * 20 ms the log rewinds by itself and stays under 3,200 frames on a fast disk (where each copy's
 * fsync is slow, the checkpointer restarts it past a bound: checkpointer.ts). An idle check
 * costs microseconds.
 */
const CHECKPOINT_INTERVAL_MS = 20;

export async function openDb(options: DbOptions): Promise<Db> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.pgSchema);
  const file = options.sqliteFile ?? ':memory:';
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = openSqliteConnection(file);
  let checkpointer: ReturnType<typeof startCheckpointer> | undefined;
  if (file !== ':memory:') {
    checkpointer = startCheckpointer(file, CHECKPOINT_INTERVAL_MS, (message) =>
      process.emitWarning(`sqlite checkpoint: ${message}`),
    );
  }
  const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  return {
    kysely,
    dialect: 'sqlite',
    sqlite,
    sqliteFile: file === ':memory:' ? undefined : file,
    close: async () => {
      await checkpointer?.stop();
      await kysely.destroy();
    },
  };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Db> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new Error(`bad schema name ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
}
