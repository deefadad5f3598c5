import { describe, expect, it } from 'vitest';
import { enlargeYoungGeneration } from '../src/ops/young-generation.js';

describe('the young generation', () => {
  it('is enlarged at start unless the operator sized it', () => {
    expect(enlargeYoungGeneration('--enable-source-maps --max-semi-space-size=64')).toBe(false);
    expect(enlargeYoungGeneration('--enable-source-maps')).toBe(
      !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')),
    );
  });
});
