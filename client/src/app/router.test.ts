import { describe, expect, it } from 'vitest';
import { parseRoute, routePath } from './router.js';

describe('routes', () => {
  it('round-trips every route', () => {
    for (const route of [
      { name: 'sessions' } as const,
      { name: 'session', sessionId: 's 1', scanId: undefined } as const,
      { name: 'session', sessionId: 's1', scanId: 'scan/2' } as const,
    ]) {
      expect(parseRoute(routePath(route))).toEqual(route);
    }
    expect(parseRoute('/nowhere')).toEqual({ name: 'sessions' });
  });
});
