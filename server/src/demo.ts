import type { Logger } from 'pino';
import { hashPassword } from './auth/passwords.js';
import type { Stores } from './db/stores.js';

export interface DemoLogin {
  readonly username: string;
  readonly password: string;
  readonly role: string;
}

export const DEMO_SESSION_NAME = 'Demo consensus panel';

const DEMO_USERS = [
  { username: 'admin', password: 'admin-demo-1', role: 'admin' },
  { username: 'moderator', password: 'moderator-demo-1', role: 'moderator' },
  { username: 'reader1', password: 'reader-demo-1', role: 'reader' },
  { username: 'reader2', password: 'reader-demo-2', role: 'reader' },
  { username: 'reader3', password: 'reader-demo-3', role: 'reader' },
] as const;

/** Scans of typical chest X-ray size (registered by size until DICOM demo files exist). */
const DEMO_SCANS = [
  { id: 'demo-cxr-001', rows: 3000, columns: 2800 },
  { id: 'demo-cxr-002', rows: 2800, columns: 2600 },
  { id: 'demo-cxr-003', rows: 3000, columns: 3000 },
];

/**
 * Seeds demo users, scans and one session for `npm start`; does nothing if they exist, so a
 * restart keeps everything drawn meanwhile.
 */
export async function seedDemo(stores: Stores, log: Logger): Promise<DemoLogin[]> {
  const ids = new Map<string, string>();
  for (const demo of DEMO_USERS) {
    const existing = await stores.users.byUsername(demo.username);
    if (existing) {
      ids.set(demo.username, existing.id);
      continue;
    }
    const user = await stores.users.create({
      username: demo.username,
      role: demo.role,
      passwordHash: await hashPassword(demo.password),
    });
    ids.set(demo.username, user.id);
  }
  for (const scan of DEMO_SCANS) await stores.scans.register({ ...scan, createdBy: null });
  const moderatorId = ids.get('moderator');
  const moderatorSessions = moderatorId ? await stores.sessions.listIds(moderatorId, false) : [];
  if (moderatorId && moderatorSessions.length === 0) {
    await stores.sessions.create(
      {
        name: DEMO_SESSION_NAME,
        moderatorId,
        readerIds: ['reader1', 'reader2', 'reader3']
          .map((u) => ids.get(u))
          .filter((id): id is string => !!id),
        scanIds: DEMO_SCANS.map((s) => s.id),
      },
      moderatorId,
    );
    log.info('demo session created');
  }
  return DEMO_USERS.map((u) => ({ ...u }));
}
