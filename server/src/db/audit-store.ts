import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { type Kysely, type Transaction, sql } from 'kysely';
import type { DialectName } from './database.js';
import { type LiveDatabase, liveDb } from './live-tables.js';
import type { Database } from './schema.js';

/** What a caller appends; the store assigns `seq`, `at` and the hashes. */
export interface AuditInput {
  readonly sessionId: string;
  readonly scanId: string;
  /** `vote-open`, `vote-cast`, `vote-close`, `vote-void`, `decision`, `lock`, `unlock`, `edit`, ... */
  readonly kind: string;
  /** A user id, or `system`. */
  readonly actor: string;
  /** Plain JSON. */
  readonly payload: unknown;
  /** What the entry belongs to (a vote id): lets a vote be rebuilt from the log. */
  readonly ref?: string | undefined;
}

export interface AuditEntry {
  readonly seq: number;
  readonly kind: string;
  readonly actor: string;
  readonly at: string;
  readonly payload: unknown;
  readonly ref: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditVerification = { verified: true } | { verified: false; brokenAt: number };

/** The `prevHash` of a chain's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 (hex) over the RFC 8785 canonical JSON of `{prevHash, seq, kind, actor, at, payload}`. */
export function auditHash(entry: Omit<AuditEntry, 'hash' | 'ref'>): string {
  const text = canonicalize({
    prevHash: entry.prevHash,
    seq: entry.seq,
    kind: entry.kind,
    actor: entry.actor,
    at: entry.at,
    payload: entry.payload,
  });
  if (text === undefined) throw new Error('audit entry cannot be canonicalised');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Checks a chain read in `seq` order: sequence numbers run 1, 2, 3 ..., each entry names its
 * predecessor's hash and its own hash matches its content. `brokenAt` is the first bad seq.
 */
export function verifyChain(entries: readonly AuditEntry[]): AuditVerification {
  let prevHash = GENESIS_HASH;
  for (const [i, entry] of entries.entries()) {
    if (entry.seq !== i + 1 || entry.prevHash !== prevHash || auditHash(entry) !== entry.hash) {
      return { verified: false, brokenAt: entry.seq };
    }
    prevHash = entry.hash;
  }
  return { verified: true };
}

type Tx = Transaction<LiveDatabase>;

/**
 * Append-only, hash-chained audit log, one chain per (session, scan). Appends of a chain are
 * serialised on its head row: PostgreSQL locks it FOR UPDATE; SQLite runs one transaction at
 * a time anyway. A batch costs one transaction however many entries and chains it holds.
 */
export class AuditStore {
  private readonly db: Kysely<LiveDatabase>;

  constructor(
    db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {
    this.db = liveDb(db);
  }

  /**
   * Appends entries in order, in one transaction; `within` runs in the same transaction (a vote
   * row that must change together with its log entry). Safe under concurrency, across nodes.
   */
  async append(inputs: readonly AuditInput[], within?: (tx: Tx) => Promise<void>): Promise<AuditEntry[]> {
    return this.db.transaction().execute(async (tx) => {
      if (within) await within(tx);
      return this.appendIn(tx, inputs);
    });
  }

  /**
   * Appends inside a transaction the caller already holds, so entries commit together with
   * what they describe (the Yjs update path logs `edit` entries with the updates themselves).
   */
  async appendIn(tx: Tx, inputs: readonly AuditInput[]): Promise<AuditEntry[]> {
    const chains = new Map<string, { sessionId: string; scanId: string }>();
    for (const input of inputs)
      chains.set(chainKey(input), { sessionId: input.sessionId, scanId: input.scanId });
    // Every head in two statements (a round trip per chain made batches slow on PostgreSQL);
    // rows are locked in key order so two batches touching the same chains cannot deadlock.
    const heads = new Map<string, { seq: number; hash: string }>();
    const list = [...chains.values()];
    await tx
      .insertInto('audit_heads')
      .values(list.map((c) => ({ session_id: c.sessionId, scan_id: c.scanId, seq: 0, hash: GENESIS_HASH })))
      .onConflict((oc) => oc.columns(['session_id', 'scan_id']).doNothing())
      .execute();
    let query = tx
      .selectFrom('audit_heads')
      .select(['session_id', 'scan_id', 'seq', 'hash'])
      .where((eb) =>
        eb.or(list.map((c) => eb.and([eb('session_id', '=', c.sessionId), eb('scan_id', '=', c.scanId)]))),
      )
      .orderBy('session_id')
      .orderBy('scan_id');
    if (this.dialect === 'postgres') query = query.forUpdate();
    for (const head of await query.execute()) {
      heads.set(chainKey({ sessionId: head.session_id, scanId: head.scan_id }), {
        seq: Number(head.seq),
        hash: head.hash,
      });
    }
    const at = new Date().toISOString();
    const entries: AuditEntry[] = [];
    const rows: LiveDatabase['audit_entries'][] = [];
    for (const input of inputs) {
      const key = chainKey(input);
      const head = heads.get(key);
      if (!head) throw new Error('audit head missing');
      const payloadText = canonicalize(input.payload);
      if (payloadText === undefined) throw new Error(`audit payload of ${input.kind} is not JSON`);
      // Hash what a reader will parse back, so verification sees exactly what was hashed.
      const payload: unknown = JSON.parse(payloadText);
      const base = {
        seq: head.seq + 1,
        kind: input.kind,
        actor: input.actor,
        at,
        payload,
        prevHash: head.hash,
      };
      const entry: AuditEntry = { ...base, ref: input.ref ?? null, hash: auditHash(base) };
      heads.set(key, { seq: entry.seq, hash: entry.hash });
      entries.push(entry);
      rows.push({
        session_id: input.sessionId,
        scan_id: input.scanId,
        seq: entry.seq,
        kind: entry.kind,
        actor: entry.actor,
        at,
        payload: payloadText,
        ref: entry.ref,
        prev_hash: entry.prevHash,
        hash: entry.hash,
      });
    }
    // Parameters per statement are bounded (SQLite 32766); 9 columns x 500 rows stays well under.
    for (let i = 0; i < rows.length; i += 500) {
      await tx
        .insertInto('audit_entries')
        .values(rows.slice(i, i + 500))
        .execute();
    }
    const moved = [...heads].flatMap(([key, head]) => {
      const chain = chains.get(key);
      return chain ? [{ ...chain, ...head }] : [];
    });
    if (this.dialect === 'postgres' && moved.length > 1) {
      const values = sql.join(
        moved.map((h) => sql`(${h.sessionId}, ${h.scanId}, ${h.seq}::integer, ${h.hash})`),
      );
      await sql`update audit_heads as h set seq = v.seq, hash = v.hash
        from (values ${values}) as v(session_id, scan_id, seq, hash)
        where h.session_id = v.session_id and h.scan_id = v.scan_id`.execute(tx);
    } else {
      for (const h of moved) {
        await tx
          .updateTable('audit_heads')
          .set({ seq: h.seq, hash: h.hash })
          .where('session_id', '=', h.sessionId)
          .where('scan_id', '=', h.scanId)
          .execute();
      }
    }
    return entries;
  }

  /** A scan's whole chain in order. */
  async list(sessionId: string, scanId: string): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('scan_id', '=', scanId)
      .orderBy('seq')
      .execute();
    return rows.map(toEntry);
  }

  /** Entries that belong to one thing (a vote), in chain order. */
  async byRef(ref: string): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('ref', '=', ref)
      .orderBy('seq')
      .execute();
    return rows.map(toEntry);
  }
}

function chainKey(input: { sessionId: string; scanId: string }): string {
  return JSON.stringify([input.sessionId, input.scanId]);
}

function toEntry(row: LiveDatabase['audit_entries']): AuditEntry {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    // A tampered row may not even parse; keep the text so verification reports it as broken.
    payload = row.payload;
  }
  return {
    seq: Number(row.seq),
    kind: row.kind,
    actor: row.actor,
    at: row.at,
    payload,
    ref: row.ref,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Groups appends made in the same event-loop turn into one transaction (group commit), so a
 * burst of votes costs a few transactions instead of one each. Each caller's promise settles
 * when its entry is durable (or its batch failed).
 */
export class AuditBatcher {
  private queue: Array<{
    input: AuditInput;
    resolve: (e: AuditEntry) => void;
    reject: (e: unknown) => void;
  }> = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly store: Pick<AuditStore, 'append'>) {}

  append(input: AuditInput): Promise<AuditEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Settles once everything queued so far is written (or failed). */
  async drained(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // Let the rest of this turn queue its entries first.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 1000);
      try {
        const entries = await this.store.append(batch.map((b) => b.input));
        batch.forEach((b, i) => {
          const entry = entries[i];
          if (entry) b.resolve(entry);
          else b.reject(new Error('audit batch returned fewer entries'));
        });
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.flushing = undefined;
  }
}

/**
 * The function the Yjs update path uses to add `edit` entries: batch them (one call per
 * stored batch of updates); safe to call concurrently from several places and nodes.
 */
export type AppendAudit = (entries: AuditInput[]) => Promise<AuditEntry[]>;
