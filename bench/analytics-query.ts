/**
 * Analytics query benchmark (issue 23): a 100-scan, 5-reader live session with every scan
 * locked (each reader drew 3 boxes a scan, two of them kept), a vote per scan and every
 * reader's capture (time, tools, a view per finding); times `GET .../analytics` as the server
 * computes it (gather from the database + the pure figures), on SQLite and PostgreSQL.
 * Goal: < 200 ms.
 *
 *   npx tsx bench/analytics-query.ts [--scans 100] [--readers 5] [--runs 20] [--backend both|sqlite|postgres]
 *
 * The PostgreSQL schema is unique to the run and dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ConsensusRecord, type Finding, percentileOf } from './analytics-bench-util.js';
import pg from 'pg';
import { sessionAnalytics } from '../server/src/analytics/analytics-service.js';
import { openStores } from '../server/src/db/stores.js';
import { VotesStore } from '../server/src/db/votes-store.js';

const { values: args } = parseArgs({
  options: {
    scans: { type: 'string', default: '100' },
    readers: { type: 'string', default: '5' },
    runs: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'both' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const SCANS = Number(args.scans);
const READERS = Number(args.readers);
const RUNS = Number(args.runs);

async function bench(name: 'sqlite' | 'postgres') {
  const schema = `bench_analytics_${process.pid}`;
  const stores = await openStores(
    name === 'sqlite'
      ? { sqliteFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-aq-')), 'cxr.sqlite') }
      : { databaseUrl: args['database-url'], pgSchema: schema },
  );
  try {
    const mod = await stores.users.create({
      username: `mod-${randomUUID().slice(0, 8)}`,
      passwordHash: 'x',
      role: 'moderator',
    });
    const readers = [];
    for (let i = 0; i < READERS; i++)
      readers.push(
        await stores.users.create({
          username: `r${i}-${randomUUID().slice(0, 8)}`,
          passwordHash: 'x',
          role: 'reader',
        }),
      );
    const scanIds = Array.from({ length: SCANS }, (_, i) => `aq-${process.pid}-${i}`);
    for (const id of scanIds) await stores.scans.register({ id, rows: 2048, columns: 2048, createdBy: null });
    const session = await stores.sessions.create(
      {
        name: 'bench',
        moderatorId: mod.id,
        readerIds: readers.map((r) => r.id),
        scanIds,
        mode: 'live',
        fusionIouThreshold: 0.4,
      },
      mod.id,
    );
    const now = Date.now();
    const votes = new VotesStore(stores.db.kysely);
    for (const [s, scanId] of scanIds.entries()) {
      const findings: Finding[] = [];
      for (const [r, reader] of readers.entries()) {
        for (let k = 0; k < 3; k++) {
          const x = 100 + k * 400 + r * 7;
          findings.push({
            id: `f-${r}-${k}`,
            labels: [k === 2 ? 'Nodule/Mass' : 'Pleural effusion'],
            box: { x_min: x, y_min: 100 + s, x_max: x + 200, y_max: 300 + s },
            createdBy: reader.id,
            updatedBy: reader.id,
            updatedAt: now,
          });
        }
      }
      const record: ConsensusRecord = {
        sessionId: session.id,
        scanId,
        version: 1,
        image: { rows: 2048, columns: 2048 },
        lockedBy: mod.id,
        lockedAt: now,
        findings,
        globals: [{ label: 'No finding', proposedBy: readers[0]!.id, updatedAt: now }],
        decisions: findings.map((f) => ({
          target: { kind: 'finding' as const, id: f.id },
          outcome: f.id.endsWith('-2') ? ('rejected' as const) : ('accepted' as const),
          decidedBy: mod.id,
          decidedAt: now,
        })),
      };
      await stores.db.kysely
        .insertInto('consensus_records')
        .values({
          session_id: session.id,
          scan_id: scanId,
          version: 1,
          record: JSON.stringify(record),
          sha256: '0'.repeat(64),
          locked_by: mod.id,
          locked_at: new Date(now).toISOString(),
        })
        .execute();
      await stores.db.kysely.transaction().execute((tx) =>
        votes.insertOpen(tx as never, {
          id: `v-${s}`,
          sessionId: session.id,
          scanId,
          target: { kind: 'finding', id: 'f-0-2' },
          targetKey: 'finding:f-0-2',
          targetVersion: JSON.stringify({ labels: ['Nodule/Mass'], box: [0, 0, 1, 1] }),
          quorum: 3,
          openedBy: mod.id,
          openedAt: now,
          state: 'open',
          outcome: null,
          overridden: false,
          reason: null,
          closedAt: null,
        }),
      );
      for (const [r, reader] of readers.entries()) {
        await stores.analytics.record({
          sessionId: session.id,
          userId: reader.id,
          receivedAt: now,
          batch: {
            batchId: `b-${s}-${r}-${randomUUID()}`,
            sentAt: now,
            scans: [
              {
                scanId,
                activeMs: 20_000 + r * 1000 + s * 10,
                openedAt: now - 60_000,
                tools: { draw: 3, wl: 4, pan: 2 },
                findingViews: [0, 1, 2].map((k) => ({
                  findingId: `f-${r}-${k}`,
                  action: 'created' as const,
                  at: now - 50_000 + k * 1000,
                  view: {
                    windowCenter: 2000,
                    windowWidth: 4000,
                    preset: 'lung' as const,
                    zoom: 1,
                    invert: false,
                  },
                })),
              },
            ],
          },
        });
      }
    }
    const deps = {
      db: stores.db.kysely,
      analytics: stores.analytics,
      docs: stores.docs,
      users: stores.users,
      sessions: stores.sessions,
    };
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS + 2; i++) {
      const t0 = performance.now();
      const loaded = await stores.sessions.get(session.id);
      const out = await sessionAnalytics(deps, loaded!, { userId: mod.id, scope: 'all' });
      const ms = performance.now() - t0;
      rows = out.rows.length;
      if (i >= 2) times.push(ms); // two warm-up runs (JIT, statement caches)
    }
    console.log(
      `${name}: ${SCANS} scans x ${READERS} readers (${rows} rows), ${RUNS} runs: ` +
        `p50 ${percentileOf(times, 0.5).toFixed(1)} ms, p95 ${percentileOf(times, 0.95).toFixed(1)} ms, ` +
        `max ${Math.max(...times).toFixed(1)} ms (goal < 200 ms)`,
    );
  } finally {
    await stores.db.close();
    if (name === 'postgres') {
      const client = new pg.Client({ connectionString: args['database-url'] });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }
}

for (const name of ['sqlite', 'postgres'] as const) {
  if (args.backend === 'both' || args.backend === name) await bench(name);
}
