import { type User, UserSchema } from '@cxr/shared';

/**
 * The log-in lives in sessionStorage: it survives a reload of the tab (the reading must not
 * be interrupted) but not the browser, and two tabs may hold two different users.
 */
const KEY = 'cxr.auth';

export interface Auth {
  readonly token: string;
  readonly user: User;
}

export function loadAuth(): Auth | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const { token, user } = value as { token?: unknown; user?: unknown };
    const parsed = UserSchema.safeParse(user);
    return typeof token === 'string' && parsed.success ? { token, user: parsed.data } : undefined;
  } catch {
    return undefined;
  }
}

export function saveAuth(auth: Auth | undefined): void {
  if (auth) sessionStorage.setItem(KEY, JSON.stringify(auth));
  else sessionStorage.removeItem(KEY);
}
