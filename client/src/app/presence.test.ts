import type { PresenceMember } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { presenceEntries } from './presence.js';

const members = [
  { id: 'mod', username: 'Mo', role: 'moderator' as const },
  { id: 'a', username: 'Ann', role: 'reader' as const },
  { id: 'b', username: 'Ben', role: 'reader' as const },
];

function live(over: Partial<PresenceMember>): PresenceMember {
  return {
    userId: 'a',
    username: 'Ann',
    role: 'reader',
    globalRole: 'reader',
    online: true,
    scanId: 's1',
    following: true,
    lastSeen: 1,
    ...over,
  };
}

describe('presence entries', () => {
  it('takes online, scan and follow from the live panel, done from the document', () => {
    const entries = presenceEntries({
      members,
      moderatorId: 'mod',
      live: [live({ userId: 'mod', role: 'moderator', following: false, scanId: 's2' }), live({})],
      peers: [],
      progress: [{ userId: 'a', done: true, updatedAt: 1 }],
      selfId: 'b',
      scanId: 's1',
    });
    expect(entries.map((e) => [e.id, e.role, e.online, e.scanId, e.following, e.done])).toEqual([
      ['mod', 'moderator', true, 's2', false, false],
      ['a', 'reader', true, 's1', true, true],
      ['b', 'reader', true, 's1', false, false],
    ]);
  });

  it('falls back to awareness on this scan without the live panel', () => {
    const entries = presenceEntries({
      members,
      moderatorId: 'mod',
      live: undefined,
      peers: [{ clientId: 7, user: { id: 'a', name: 'Ann', color: '#abc' }, cursor: null }],
      progress: [],
      selfId: 'b',
      scanId: 's1',
    });
    expect(entries.find((e) => e.id === 'a')).toMatchObject({ online: true, scanId: 's1' });
    expect(entries.find((e) => e.id === 'mod')).toMatchObject({
      online: false,
      scanId: null,
      role: 'moderator',
    });
  });

  it('an offline member is nowhere, and an unknown live member (an admin) is listed', () => {
    const entries = presenceEntries({
      members,
      moderatorId: 'mod',
      live: [live({ online: false }), live({ userId: 'root', username: 'root', role: 'observer' })],
      peers: [],
      progress: [],
      selfId: 'b',
      scanId: 's1',
    });
    expect(entries.find((e) => e.id === 'a')).toMatchObject({ online: false, scanId: null });
    expect(entries.at(-1)).toMatchObject({ id: 'root', name: 'root', role: 'observer', online: true });
  });
});
