import { afterEach, describe, expect, it } from 'vitest';
import { enlargeYoungGeneration } from '../src/ops/young-generation.js';

describe('the young generation', () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it('is enlarged at start unless the operator sized it', () => {
    process.env.NODE_OPTIONS = '--enable-source-maps --max-semi-space-size=64';
    expect(enlargeYoungGeneration()).toBe(false);
    process.env.NODE_OPTIONS = '--enable-source-maps';
    expect(enlargeYoungGeneration()).toBe(
      !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')),
    );
  });
});
