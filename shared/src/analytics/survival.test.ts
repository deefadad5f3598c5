import { describe, expect, it } from 'vitest';
import { matchSurvival } from './survival.js';

const box = (x_min: number, y_min: number, x_max: number, y_max: number) => ({ x_min, y_min, x_max, y_max });
const nodule = (id: string, b: ReturnType<typeof box>) => ({ id, labels: ['Nodule/Mass'], box: b });

// Consensus C = [100,100,200,200]. A = [110,110,210,210]: IoU 8100/11900 = 0.68.
// B = [130,100,230,200]: IoU 7000/13000 = 0.54. Both above 0.4.
const C = nodule('c', box(100, 100, 200, 200));
const A = nodule('a', box(110, 110, 210, 210));
const B = nodule('b', box(130, 100, 230, 200));

describe('matchSurvival (R-ANALYTICS-7)', () => {
  it('two readers whose boxes both overlap one consensus finding both survive (each matched alone)', () => {
    const first = matchSurvival([A], [C]);
    const second = matchSurvival([B], [C]);
    expect([...first.survived]).toEqual(['a']);
    expect([...second.survived]).toEqual(['b']);
  });

  it('one-to-one: two boxes of one reader over one consensus finding, only the better one survives', () => {
    const result = matchSurvival([B, A], [C]);
    expect([...result.survived]).toEqual(['a']);
    expect(result).toMatchObject({ matches: 1, readerItems: 2, consensusItems: 1 });
  });

  it('needs the same label and IoU >= 0.4', () => {
    expect(matchSurvival([{ ...A, labels: ['Cardiomegaly'] }], [C]).survived.size).toBe(0);
    // [150,100,250,200]: IoU 5000/15000 = 0.33.
    expect(matchSurvival([nodule('far', box(150, 100, 250, 200))], [C]).survived.size).toBe(0);
    // Exactly 0.4: [0,0,100,100] vs [0,0,40,100] -> 4000/10000.
    expect(
      matchSurvival([nodule('edge', box(0, 0, 40, 100))], [nodule('c', box(0, 0, 100, 100))]).matches,
    ).toBe(1);
  });

  it('prefers more matches over a higher IoU sum', () => {
    // R2 = C1 exactly (IoU 1) and 0.25 with C2; R1 is 0.54 with both: two matches, not one.
    const c1 = nodule('c1', box(0, 0, 100, 100));
    const c2 = nodule('c2', box(60, 0, 160, 100));
    const r1 = nodule('r1', box(30, 0, 130, 100));
    const r2 = nodule('r2', box(0, 0, 100, 100));
    const result = matchSurvival([r1, r2], [c1, c2]);
    expect(result.matches).toBe(2);
    expect([...result.survived].sort()).toEqual(['r1', 'r2']);
  });

  it('counts a two-label finding as two items and survives on either label', () => {
    const both = { id: 'm', labels: ['Nodule/Mass', 'Calcification'], box: box(100, 100, 200, 200) };
    const result = matchSurvival([both], [C]);
    expect(result).toMatchObject({ matches: 1, readerItems: 2, consensusItems: 1 });
    expect(result.survived.has('m')).toBe(true);
  });
});
