import { IMAGE } from './wire.js';

export const ADMIN = { username: 'bench-admin', password: 'bench-admin-password' };

export interface Member {
  readonly id: string;
  readonly token: string;
}

export interface RoomPlan {
  readonly sessionId: string;
  readonly scanId: string;
}

export interface Plan {
  /** Moderator first, then the five readers; the same people sit on every room's panel. */
  readonly members: readonly Member[];
  readonly rooms: readonly RoomPlan[];
}

async function call(baseUrl: string, method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(baseUrl + url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: res.status, json };
}

export async function login(baseUrl: string, username: string, password: string): Promise<Member> {
  const res = await call(baseUrl, 'POST', '/api/auth/login', undefined, { username, password });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.json)}`);
  return { id: (res.json.user as { id: string }).id, token: String(res.json.token) };
}

/**
 * Creates one panel (a moderator and five readers; passwords are deliberately slow to hash, so
 * the people are shared) and, per room, its own scan and its own session, through the HTTP API.
 */
export async function setUpServer(baseUrl: string, rooms: number, runId: string): Promise<Plan> {
  const admin = await login(baseUrl, ADMIN.username, ADMIN.password);
  const members: Member[] = [];
  for (let i = 0; i < 6; i++) {
    const username = `bench-${runId}-${i}`;
    const password = `${username}-password`;
    const role = i === 0 ? 'moderator' : 'reader';
    const res = await call(baseUrl, 'POST', '/api/users', admin.token, { username, password, role });
    if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.json)}`);
    members.push(await login(baseUrl, username, password));
  }
  const plans: RoomPlan[] = new Array(rooms);
  const makeRoom = async (r: number) => {
    const scanId = `bench-${runId}-scan-${r}`;
    const scan = await call(baseUrl, 'POST', '/api/scans', admin.token, { id: scanId, ...IMAGE });
    if (scan.status !== 201) throw new Error(`register scan: ${scan.status} ${JSON.stringify(scan.json)}`);
    const session = await call(baseUrl, 'POST', '/api/sessions', admin.token, {
      name: `bench room ${r}`,
      moderatorId: members[0]!.id,
      readerIds: members.slice(1).map((m) => m.id),
      scanIds: [scanId],
    });
    if (session.status !== 201) {
      throw new Error(`create session: ${session.status} ${JSON.stringify(session.json)}`);
    }
    plans[r] = { sessionId: String(session.json.id), scanId };
  };
  await inBatches(rooms, 16, makeRoom);
  return { members, rooms: plans };
}

/** Runs `task(0..count-1)` with at most `width` at a time. */
export async function inBatches(count: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
}
