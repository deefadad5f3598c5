import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditBatcher, AuditStore, GENESIS_HASH, verifyChain } from '../../src/db/audit-store.js';
import { type Stores, openStores } from '../../src/db/stores.js';
import { type Backend, PG_URL, pgSchemaName, tempDir } from '../helpers/test-server.js';

/** A fresh database, or (with `place`) another connection to the same one. */
const open = (
  backend: Backend,
  place = backend === 'postgres' ? pgSchemaName() : `${tempDir()}/audit.sqlite`,
) => openStores(backend === 'postgres' ? { databaseUrl: PG_URL, pgSchema: place } : { sqliteFile: place });

describe.each(['sqlite', 'postgres'] as const)('audit log on %s', (backend) => {
  const opened: Stores[] = [];
  afterAll(async () => {
    for (const s of opened) await s.db.close();
  });
  const store = async (place?: string) => {
    const stores = await open(backend, place);
    opened.push(stores);
    return { stores, audit: new AuditStore(stores.db.kysely, stores.db.dialect) };
  };

  it('R-AUDIT-1: entries chain per scan: seq from 1, each holds the previous hash; the chain verifies', async () => {
    const { audit } = await store();
    const at = (kind: string, scanId = 'scan-a') => ({
      sessionId: 's',
      scanId,
      kind,
      actor: 'u1',
      payload: { kind },
    });
    await audit.append([at('vote-open'), at('vote-cast'), at('edit', 'scan-b')]);
    await audit.append([at('vote-close')]);
    const a = await audit.list('s', 'scan-a');
    expect(a.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'vote-open'],
      [2, 'vote-cast'],
      [3, 'vote-close'],
    ]);
    expect(a[0]!.prevHash).toBe(GENESIS_HASH);
    expect(a[1]!.prevHash).toBe(a[0]!.hash);
    expect(verifyChain(a)).toEqual({ verified: true });
    expect((await audit.list('s', 'scan-b')).map((e) => e.seq)).toEqual([1]);
  });

  it('R-AUDIT-2: editing, deleting or reordering a stored row is detected at the first broken entry', async () => {
    const { stores, audit } = await store();
    const entries = Array.from({ length: 5 }, (_, i) => ({
      sessionId: 's',
      scanId: 'scan-t',
      kind: 'vote-cast',
      actor: 'u1',
      payload: { choice: 'agree', i },
    }));
    await audit.append(entries);
    expect(verifyChain(await audit.list('s', 'scan-t'))).toEqual({ verified: true });
    const db = stores.db.kysely;
    // Tampering tried: a changed payload, a changed actor (with the hash left alone), a deleted row.
    await sql`update audit_entries set payload = ${'{"choice":"disagree","i":2}'} where scan_id = 'scan-t' and seq = 3`.execute(
      db,
    );
    expect(verifyChain(await audit.list('s', 'scan-t'))).toEqual({ verified: false, brokenAt: 3 });
    await sql`update audit_entries set payload = ${'{"choice":"agree","i":2}'} where scan_id = 'scan-t' and seq = 3`.execute(
      db,
    );
    expect(verifyChain(await audit.list('s', 'scan-t'))).toEqual({ verified: true });
    await sql`update audit_entries set actor = 'someone-else' where scan_id = 'scan-t' and seq = 2`.execute(
      db,
    );
    expect(verifyChain(await audit.list('s', 'scan-t'))).toEqual({ verified: false, brokenAt: 2 });
    await sql`update audit_entries set actor = 'u1' where scan_id = 'scan-t' and seq = 2`.execute(db);
    await sql`delete from audit_entries where scan_id = 'scan-t' and seq = 4`.execute(db);
    expect(verifyChain(await audit.list('s', 'scan-t'))).toEqual({ verified: false, brokenAt: 5 });
  });

  it('R-AUDIT-3: concurrent appends from two connections (two nodes) and a batcher keep one unbroken chain', async () => {
    const place = backend === 'postgres' ? pgSchemaName() : `${tempDir()}/audit.sqlite`;
    const first = await store(place);
    // PostgreSQL: a second connection pool stands for a second node. SQLite serves one node
    // only (one handle, whose transactions run one at a time), so both appenders share it.
    const second = backend === 'postgres' ? await store(place) : first;
    const batcher = new AuditBatcher(first.audit);
    const entry = (i: number) => ({
      sessionId: 's',
      scanId: 'scan-c',
      kind: 'edit',
      actor: `u${i % 3}`,
      payload: { i },
    });
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => first.audit.append([entry(i), entry(i + 1000)])),
      ...Array.from({ length: 20 }, (_, i) => second.audit.append([entry(i + 2000)])),
      ...Array.from({ length: 200 }, (_, i) => batcher.append(entry(i + 3000))),
    ]);
    const chain = await first.audit.list('s', 'scan-c');
    expect(chain).toHaveLength(40 + 20 + 200);
    expect(verifyChain(chain)).toEqual({ verified: true });
  });
});
