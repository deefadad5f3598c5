import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';

const run = promisify(execFile);
const MODULE = fileURLToPath(new URL('../src/ops/gc-tuning.ts', import.meta.url));

/**
 * A separate Node process applies the tuning, turns on V8's per-collection trace, and makes
 * young-generation garbage with a rolling set of survivors. Returns, per scavenge, the helper
 * threads' share of the work in ms.
 */
async function helperTimes(parallelScavenge: boolean): Promise<number[]> {
  const script = `
    import v8 from 'node:v8';
    const { applyGcTuning } = await import(${JSON.stringify(MODULE)});
    applyGcTuning({ parallelScavenge: ${parallelScavenge} });
    v8.setFlagsFromString('--trace-gc-nvp');
    const keep = new Array(20000);
    for (let i = 0; i < 3000000; i++) keep[i % keep.length] = { i, s: { a: [i, i + 1] } };
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((line) => line.includes('gc=s '))
    .map((line) => Number(/background\.scavenge\.parallel=([\d.]+)/.exec(line)?.[1]));
}

describe('garbage-collector tuning of the serving process', () => {
  it('keeps young-generation collections on the main thread unless asked for helpers', async () => {
    const alone = await helperTimes(false);
    expect(alone.length).toBeGreaterThan(5);
    expect(alone.every((ms) => ms === 0)).toBe(true);
    // The same work with V8's default does use the helpers: the setting is what changed it.
    const helped = await helperTimes(true);
    expect(helped.some((ms) => ms > 0)).toBe(true);
  });

  it('reads GC_PARALLEL_SCAVENGE as a boolean, off by default', () => {
    const parse = (value: string | undefined) => parseConfig({ GC_PARALLEL_SCAVENGE: value });
    const read = (value: string | undefined) => {
      const result = parse(value);
      return result.ok ? result.config.gcParallelScavenge : result.problems;
    };
    expect(read(undefined)).toBe(false);
    expect(read('false')).toBe(false);
    expect(read('true')).toBe(true);
    expect(read('1')).toBe(true);
    // Bad values tried: a word other than true or false, and a number other than 0 or 1.
    expect(read('yes')).toEqual([expect.stringContaining('GC_PARALLEL_SCAVENGE')]);
    expect(read('2')).toEqual([expect.stringContaining('GC_PARALLEL_SCAVENGE')]);
  });
});
