import { type AnalyticsResponse, type Session, type User, computeAnalytics } from '@cxr/shared';
import type { SessionsStore } from '../db/sessions-store.js';
import { type FactsDeps, type Viewer, gatherFacts } from './analytics-facts.js';

export interface AnalyticsDeps extends FactsDeps {
  readonly sessions: SessionsStore;
}

/**
 * R-ANALYTICS-5: who sees what. The session's moderator and admins see every reader; a reader
 * of the panel sees only their own rows; anyone else nothing.
 */
export function viewerOf(user: Pick<User, 'id' | 'role'>, session: Session): Viewer | undefined {
  if (user.role === 'admin' || session.moderatorId === user.id) return { userId: user.id, scope: 'all' };
  if (session.readerIds.includes(user.id)) return { userId: user.id, scope: 'own' };
  return undefined;
}

/** The analytics of a session for a viewer (HTTP route and CLI alike). */
export async function sessionAnalytics(deps: AnalyticsDeps, session: Session, viewer: Viewer) {
  const result: AnalyticsResponse = computeAnalytics(await gatherFacts(deps, session, viewer));
  return result;
}
