import fs from 'node:fs';
import path from 'node:path';
import { analyticsCsv } from '@cxr/shared';
import { sessionAnalytics } from '../analytics/analytics-service.js';
import type { Config } from '../config.js';
import { openStores } from '../db/stores.js';

/**
 * `cxr export --session <id> --out <dir> --analytics` (R-ANALYTICS-9): the figures of
 * `GET /api/sessions/:id/analytics` for every reader (the CLI runs with the operator's
 * access to the database, like an admin), as `analytics.csv` and `analytics.json`.
 */
export async function runAnalyticsExport(
  config: Config,
  options: { sessionId: string; outDir: string },
): Promise<{ ok: true; value: { rows: number; files: string[] } } | { ok: false; error: string }> {
  const stores = await openStores({
    databaseUrl: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
    ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
  });
  try {
    const session = await stores.sessions.get(options.sessionId);
    if (!session) return { ok: false, error: `no session ${options.sessionId}` };
    const analytics = await sessionAnalytics(
      {
        db: stores.db.kysely,
        analytics: stores.analytics,
        docs: stores.docs,
        users: stores.users,
        sessions: stores.sessions,
      },
      session,
      { userId: 'cli', scope: 'all' },
    );
    fs.mkdirSync(options.outDir, { recursive: true });
    fs.writeFileSync(path.join(options.outDir, 'analytics.csv'), analyticsCsv(analytics.rows));
    fs.writeFileSync(path.join(options.outDir, 'analytics.json'), `${JSON.stringify(analytics, null, 2)}\n`);
    return { ok: true, value: { rows: analytics.rows.length, files: ['analytics.csv', 'analytics.json'] } };
  } finally {
    await stores.db.close();
  }
}
