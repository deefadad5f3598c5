import {
  ApiErrorBodySchema,
  type Role,
  RoleSchema,
  type Session,
  SessionSchema,
  type User,
  UserSchema,
} from '@cxr/shared';

/**
 * The HTTP API, same origin. Every response is parsed (never cast): a server that answers
 * something unexpected is an `ApiError`, shown to the user, not a crash three screens later.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Member {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
}

export interface SessionView extends Session {
  readonly members: readonly Member[];
}

export interface ConsensusInfo {
  readonly sha256: string;
  readonly version: number;
  readonly record: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMembers(value: unknown): Member[] {
  if (!Array.isArray(value)) return [];
  const out: Member[] = [];
  for (const m of value) {
    if (!isRecord(m) || typeof m.id !== 'string' || typeof m.username !== 'string') continue;
    const role = RoleSchema.safeParse(m.role);
    out.push({ id: m.id, username: m.username, role: role.success ? role.data : 'reader' });
  }
  return out;
}

function parseSession(value: unknown): SessionView {
  const parsed = SessionSchema.safeParse(value);
  if (!parsed.success)
    throw new ApiError(0, 'bad_response', 'the server sent a session the client cannot read');
  const members = isRecord(value) ? parseMembers(value.members) : [];
  return { ...parsed.data, members };
}

export class Api {
  constructor(
    private readonly token: string | undefined,
    private readonly onUnauthenticated: () => void = () => {},
  ) {}

  /** One JSON request; a failure is an ApiError with the server's code. Feature modules build on it. */
  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'network', 'the server cannot be reached');
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = ApiErrorBodySchema.safeParse(json);
      if (response.status === 401 && this.token) this.onUnauthenticated();
      throw error.success
        ? new ApiError(response.status, error.data.error.code, error.data.error.message)
        : new ApiError(response.status, 'http', `HTTP ${response.status}`);
    }
    return json;
  }

  async login(username: string, password: string): Promise<{ token: string; user: User }> {
    const body = await this.request('POST', '/api/auth/login', { username, password });
    if (!isRecord(body) || typeof body.token !== 'string')
      throw new ApiError(0, 'bad_response', 'unexpected login answer');
    const user = UserSchema.safeParse(body.user);
    if (!user.success) throw new ApiError(0, 'bad_response', 'unexpected user in login answer');
    return { token: body.token, user: user.data };
  }

  async me(): Promise<User> {
    const body = await this.request('GET', '/api/me');
    const user = UserSchema.safeParse(isRecord(body) && 'user' in body ? body.user : body);
    if (!user.success) throw new ApiError(0, 'bad_response', 'unexpected user');
    return user.data;
  }

  async sessions(): Promise<SessionView[]> {
    const body = await this.request('GET', '/api/sessions');
    const list =
      isRecord(body) && Array.isArray(body.sessions) ? body.sessions : Array.isArray(body) ? body : [];
    return list.map(parseSession);
  }

  async session(id: string): Promise<SessionView> {
    return parseSession(await this.request('GET', `/api/sessions/${encodeURIComponent(id)}`));
  }

  async lock(sessionId: string, scanId: string): Promise<ConsensusInfo> {
    return parseConsensus(
      await this.request(
        'POST',
        `/api/sessions/${encodeURIComponent(sessionId)}/scans/${encodeURIComponent(scanId)}/lock`,
      ),
    );
  }

  async consensus(sessionId: string, scanId: string): Promise<ConsensusInfo | undefined> {
    try {
      return parseConsensus(
        await this.request(
          'GET',
          `/api/sessions/${encodeURIComponent(sessionId)}/scans/${encodeURIComponent(scanId)}/consensus`,
        ),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** A thumbnail as an object URL (the endpoint needs the bearer token, so no plain <img src>). */
  async thumbnail(scanId: string): Promise<string | undefined> {
    const response = await fetch(`/api/scans/${encodeURIComponent(scanId)}/thumbnail`, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
    }).catch(() => undefined);
    if (!response?.ok) return undefined;
    return URL.createObjectURL(await response.blob());
  }
}

function parseConsensus(body: unknown): ConsensusInfo {
  if (!isRecord(body) || typeof body.sha256 !== 'string') {
    throw new ApiError(0, 'bad_response', 'unexpected consensus answer');
  }
  return {
    sha256: body.sha256,
    version: typeof body.version === 'number' ? body.version : 0,
    record: body.record,
  };
}

export function dicomUrl(scanId: string): string {
  return `/api/scans/${encodeURIComponent(scanId)}/dicom`;
}

/** The quarter-resolution stand-in the viewer paints while the full file loads. */
export function previewUrl(scanId: string): string {
  return `/api/scans/${encodeURIComponent(scanId)}/preview`;
}
