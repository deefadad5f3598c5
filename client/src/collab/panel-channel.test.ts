import type { PresenceMember, Vote } from '@cxr/shared';
import { describe, expect, it, vi } from 'vitest';
import { type ChannelSocket, PanelChannel, type PanelEvent, mergeVote, voteFor } from './panel-channel.js';

/**
 * An in-memory socket: the test plays the server, answering commands through `handlers` and
 * pushing events with `push`. Connection changes are driven by hand.
 */
class FakeSocket implements ChannelSocket {
  connected = false;
  active = true;
  readonly sent: { event: string; payload: unknown }[] = [];
  readonly handlers = new Map<string, (payload: unknown) => unknown>();
  private readonly listeners = new Map<string, ((...args: unknown[]) => void)[]>();

  on(event: string, listener: (...args: unknown[]) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  emit(event: string, payload: unknown, ack: (answer: unknown) => void): void {
    this.sent.push({ event, payload });
    const handler = this.handlers.get(event);
    const answer = handler ? handler(payload) : { ok: true };
    // A handler returning undefined never answers (a lost acknowledgement).
    if (answer !== undefined) queueMicrotask(() => ack(answer));
  }

  connect(): void {
    this.connected = true;
    this.push('connect');
  }

  disconnect(): void {
    this.connected = false;
  }

  drop(reason = 'transport close', active = true): void {
    this.connected = false;
    this.active = active;
    this.push('disconnect', reason);
  }

  push(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }

  events(name: string): unknown[] {
    return this.sent.filter((s) => s.event === name).map((s) => s.payload);
  }
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

function vote(over: Partial<Vote> = {}): Vote {
  return {
    id: 'v1',
    sessionId: 's1',
    scanId: 'scan1',
    target: { kind: 'finding', id: 'f1' },
    targetVersion: 'x',
    state: 'open',
    tally: { agree: 0, disagree: 0, abstain: 0 },
    ballots: {},
    outcome: null,
    overridden: false,
    reason: null,
    openedAt: 1,
    closedAt: null,
    ...over,
  };
}

function member(over: Partial<PresenceMember>): PresenceMember {
  return {
    userId: 'u',
    username: 'u',
    role: 'reader',
    globalRole: 'reader',
    online: true,
    scanId: 'scan1',
    following: false,
    lastSeen: 1,
    ...over,
  };
}

describe('PanelChannel', () => {
  it('announces scan and follow state on connect and loads the scan votes', async () => {
    const socket = new FakeSocket();
    socket.handlers.set('vote:list', () => ({ ok: true, votes: [vote()] }));
    const channel = new PanelChannel(socket, { following: true, scanId: 'scan1' });
    expect(channel.getSnapshot().state).toBe('connecting');
    socket.connect();
    await flush();
    expect(socket.events('follow:set')).toEqual([{ following: true }]);
    expect(socket.events('presence:scan')).toEqual([{ scanId: 'scan1' }]);
    expect(channel.getSnapshot().state).toBe('connected');
    expect(channel.getSnapshot().votes.get('v1')?.state).toBe('open');
  });

  it('resyncs with vote:list after a reconnect: missed updates arrive, vanished votes go', async () => {
    const socket = new FakeSocket();
    let serverVotes = [vote(), vote({ id: 'v2', target: { kind: 'global', label: 'COPD' } })];
    socket.handlers.set('vote:list', () => ({ ok: true, votes: serverVotes }));
    const channel = new PanelChannel(socket, { scanId: 'scan1' });
    socket.connect();
    socket.push('presence:update', { members: [member({ userId: 'a' })] });
    await flush();
    expect(channel.getSnapshot().votes.size).toBe(2);

    socket.drop();
    expect(channel.getSnapshot().state).toBe('reconnecting');
    expect(channel.getSnapshot().members[0]?.online).toBe(false);

    // While away: v1 got a ballot and closed; v2 is gone (say, voided and purged).
    serverVotes = [
      vote({ state: 'closed', outcome: 'accepted', tally: { agree: 3, disagree: 0, abstain: 0 } }),
    ];
    socket.connect();
    await flush();
    const snap = channel.getSnapshot();
    expect(snap.connects).toBe(2);
    expect([...snap.votes.keys()]).toEqual(['v1']);
    expect(snap.votes.get('v1')?.outcome).toBe('accepted');
    expect(socket.events('vote:list')).toHaveLength(2);
  });

  it('never reopens a closed vote from a stale copy', () => {
    const closed = vote({ state: 'closed', outcome: 'rejected' });
    expect(mergeVote(closed, vote())).toBe(closed);
    const later = vote({ tally: { agree: 2, disagree: 0, abstain: 0 } });
    expect(mergeVote(vote(), later)).toBe(later);
    // With the server's change numbers, the higher one wins whatever the order of arrival.
    const s3 = vote({ seq: 3, tally: { agree: 2, disagree: 0, abstain: 0 } });
    const s2 = vote({ seq: 2, tally: { agree: 1, disagree: 0, abstain: 0 } });
    expect(mergeVote(s3, s2)).toBe(s3);
    expect(mergeVote(s2, s3)).toBe(s3);
  });

  it('picks the open vote of a target, else the latest', () => {
    const votes = [
      vote({ id: 'old', state: 'void', openedAt: 1 }),
      vote({ id: 'new', state: 'closed', openedAt: 5 }),
      vote({ id: 'other', target: { kind: 'finding', id: 'f2' }, openedAt: 9 }),
    ];
    expect(voteFor(votes, 'scan1', { kind: 'finding', id: 'f1' })?.id).toBe('new');
    expect(
      voteFor([...votes, vote({ id: 'open', openedAt: 2 })], 'scan1', { kind: 'finding', id: 'f1' })?.id,
    ).toBe('open');
    expect(voteFor(votes, 'scan2', { kind: 'finding', id: 'f1' })).toBeUndefined();
  });

  it('applies vote:update and keeps the vote a command acknowledged', async () => {
    const socket = new FakeSocket();
    socket.handlers.set('vote:list', () => ({ ok: true, votes: [] }));
    socket.handlers.set('vote:cast', () => ({ ok: true, vote: vote({ ballots: { me: 'agree' } }) }));
    const channel = new PanelChannel(socket, { scanId: 'scan1' });
    socket.connect();
    socket.push('vote:update', { vote: vote() });
    expect(channel.getSnapshot().votes.get('v1')?.ballots).toEqual({});
    const answer = await channel.castVote('v1', 'agree');
    expect(answer.ok).toBe(true);
    expect(channel.getSnapshot().votes.get('v1')?.ballots).toEqual({ me: 'agree' });
    const [cast] = socket.events('vote:cast') as { commandId: string }[];
    expect(cast?.commandId.length).toBeGreaterThanOrEqual(8);
  });

  it('returns acknowledgement errors as values, and refuses to buffer while disconnected', async () => {
    const socket = new FakeSocket();
    socket.handlers.set('vote:open', () => ({
      ok: false,
      error: { code: 'forbidden', message: 'moderators only' },
    }));
    const channel = new PanelChannel(socket, { scanId: 'scan1' });
    expect(await channel.openVote('scan1', { kind: 'global', label: 'COPD' })).toEqual({
      ok: false,
      error: { code: 'unavailable', message: 'not connected to the live panel' },
    });
    expect(socket.events('vote:open')).toEqual([]);
    socket.connect();
    expect(await channel.openVote('scan1', { kind: 'global', label: 'COPD' })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'moderators only' },
    });
  });

  it('reports a malformed answer or event and times out a lost acknowledgement', async () => {
    vi.useFakeTimers();
    try {
      const socket = new FakeSocket();
      socket.handlers.set('scan:lock', () => ({ ok: true, version: 'one' }));
      socket.handlers.set('scan:decide', () => undefined);
      const channel = new PanelChannel(socket, {}, 1000);
      socket.connect();
      const lock = channel.lock('scan1', false);
      await vi.runAllTimersAsync();
      expect(await lock).toMatchObject({ ok: false, error: { code: 'bad_response' } });
      socket.push('vote:update', { vote: { id: 'v1' } });
      expect(channel.getSnapshot().invalidPayloads).toBe(2);
      const decide = channel.decide('scan1', { kind: 'finding', id: 'f1' }, 'accepted');
      await vi.advanceTimersByTimeAsync(1000);
      expect(await decide).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    } finally {
      vi.useRealTimers();
    }
  });

  it('moves followers on goto, and coming back to following jumps to the moderator', () => {
    const socket = new FakeSocket();
    const channel = new PanelChannel(socket, { following: true, scanId: 'scan1' });
    const events: PanelEvent[] = [];
    channel.onEvent((e) => events.push(e));
    socket.connect();
    socket.push('session:goto', { scanId: 'scan2', by: 'mod' });
    expect(events).toEqual([{ kind: 'goto', scanId: 'scan2', by: 'mod', following: true }]);

    channel.setFollowing(false);
    socket.push('presence:update', {
      members: [member({ userId: 'mod', role: 'moderator', scanId: 'scan3' })],
    });
    socket.push('session:goto', { scanId: 'scan3', by: 'mod' });
    expect(events[1]).toMatchObject({ kind: 'goto', following: false });

    channel.setFollowing(true);
    expect(events[2]).toEqual({ kind: 'goto', scanId: 'scan3', by: 'mod', following: true });
    expect(socket.events('follow:set')).toEqual([
      { following: true },
      { following: false },
      { following: true },
    ]);
  });

  it('a follower who reconnects catches up with the moderator, once', () => {
    const socket = new FakeSocket();
    const channel = new PanelChannel(socket, { following: true, scanId: 'scan1' });
    const events: PanelEvent[] = [];
    channel.onEvent((e) => events.push(e));
    socket.connect();
    const moderatorOn = (scanId: string | null) =>
      socket.push('presence:update', { members: [member({ userId: 'mod', role: 'moderator', scanId })] });
    moderatorOn(null);
    expect(events).toEqual([]);
    moderatorOn('scan4');
    expect(events).toEqual([{ kind: 'goto', scanId: 'scan4', by: 'mod', following: true }]);
    // Later presence changes are not gotos: only the moderator's "go" moves followers.
    moderatorOn('scan5');
    expect(events).toHaveLength(1);
    socket.drop();
    socket.connect();
    moderatorOn('scan5');
    expect(events.at(-1)).toMatchObject({ kind: 'goto', scanId: 'scan5' });
  });

  it('parses the lock and unlock answers', async () => {
    const socket = new FakeSocket();
    socket.handlers.set('scan:lock', () => ({ ok: true, version: 2, sha256: 'ab'.repeat(32) }));
    socket.handlers.set('scan:unlock', (p) =>
      (p as { reason: string }).reason.length >= 3
        ? { ok: true, version: 2 }
        : { ok: false, error: { code: 'validation_failed', message: 'reason: too short' } },
    );
    const channel = new PanelChannel(socket);
    socket.connect();
    expect(await channel.lock('scan1', true)).toEqual({ ok: true, version: 2, sha256: 'ab'.repeat(32) });
    expect(socket.events('scan:lock')[0]).toMatchObject({ scanId: 'scan1', rejectUndecided: true });
    expect(await channel.unlock('scan1', 'wrong side')).toEqual({ ok: true, version: 2 });
    expect(await channel.unlock('scan1', 'no')).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
  });

  it('stops for good when access is revoked, with the server reason', () => {
    const socket = new FakeSocket();
    const channel = new PanelChannel(socket);
    socket.connect();
    socket.push('access:revoked', { code: 'forbidden', message: 'removed from the panel' });
    socket.drop('io server disconnect', false);
    expect(channel.getSnapshot()).toMatchObject({
      state: 'stopped',
      error: { code: 'forbidden', message: 'removed from the panel' },
    });
    expect(socket.connected).toBe(false);
  });

  it('R-OPS-4: a node that announces its restart is reconnected to, with the reason shown until then', () => {
    const socket = new FakeSocket();
    const channel = new PanelChannel(socket);
    socket.connect();
    socket.push('server:restarting', { code: 4503, reason: 'server restarting' });
    socket.drop('transport close');
    expect(channel.getSnapshot()).toMatchObject({
      state: 'reconnecting',
      error: { code: 'restarting', message: 'the server is restarting; reconnecting' },
    });
    socket.connect();
    expect(channel.getSnapshot()).toMatchObject({ state: 'connected', error: undefined });
    // A later plain drop is not a restart.
    socket.drop('transport close');
    expect(channel.getSnapshot()).toMatchObject({ state: 'reconnecting', error: undefined });
  });

  it('stops on a refused handshake with the server reason', () => {
    const socket = new FakeSocket();
    const channel = new PanelChannel(socket);
    socket.active = false;
    socket.push(
      'connect_error',
      Object.assign(new Error('protocol version mismatch'), { data: { code: 'version_mismatch' } }),
    );
    expect(channel.getSnapshot()).toMatchObject({
      state: 'stopped',
      error: { code: 'version_mismatch', message: 'protocol version mismatch' },
    });
  });
});
