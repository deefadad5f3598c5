import { describe, expect, it } from 'vitest';
import { GLOBAL_LABELS } from '../model/labels.js';
import { fleissKappa } from './fleiss.js';
import { type GlobalReading, globalLabelAgreement, tallyGlobalLabels } from './global-labels.js';

describe('tallyGlobalLabels', () => {
  const readings: GlobalReading[] = [
    { readerId: 'R2', labels: ['Pneumonia', 'Tuberculosis'] },
    { readerId: 'R1', labels: ['Pneumonia'] },
    { readerId: 'R3', labels: ['No finding'] },
  ];

  it('tallies every global label in taxonomy order with a strict-majority verdict', () => {
    const t = tallyGlobalLabels(readings);
    expect(t.map((x) => x.label)).toEqual([...GLOBAL_LABELS]);
    const byLabel = Object.fromEntries(t.map((x) => [x.label, x]));
    expect(byLabel.Pneumonia).toEqual({
      label: 'Pneumonia',
      readers: ['R1', 'R2'],
      share: 2 / 3,
      majority: 'present',
    });
    expect(byLabel.Tuberculosis).toMatchObject({ readers: ['R2'], majority: 'absent' });
    expect(byLabel.COPD).toMatchObject({ readers: [], share: 0, majority: 'absent' });
  });

  it('sends a tie to the panel', () => {
    const t = tallyGlobalLabels(readings.slice(0, 2), { nReaders: 4 });
    expect(t.find((x) => x.label === 'Pneumonia')).toMatchObject({ share: 0.5, majority: 'tie' });
  });

  it('rejects duplicate readers and a too-small panel', () => {
    expect(() => tallyGlobalLabels([readings[0]!, readings[0]!])).toThrow(RangeError);
    expect(() => tallyGlobalLabels(readings, { nReaders: 2 })).toThrow(RangeError);
  });
});

describe('globalLabelAgreement', () => {
  it('computes Fleiss kappa and alpha per label over scans', () => {
    const scans: GlobalReading[][] = [
      [
        { readerId: 'R1', labels: ['Pneumonia'] },
        { readerId: 'R2', labels: ['Pneumonia'] },
        { readerId: 'R3', labels: ['No finding'] },
      ],
      [
        { readerId: 'R1', labels: ['No finding'] },
        { readerId: 'R2', labels: ['No finding'] },
        { readerId: 'R3', labels: ['No finding'] },
      ],
      [
        { readerId: 'R1', labels: ['Pneumonia', 'COPD'] },
        { readerId: 'R2', labels: ['Pneumonia'] },
        { readerId: 'R3', labels: ['Pneumonia'] },
      ],
    ];
    const r = globalLabelAgreement(scans);
    const pneumonia = r.perLabel.find((x) => x.label === 'Pneumonia')!;
    expect(pneumonia.kappa).toBeCloseTo(
      fleissKappa([
        [1, 2],
        [3, 0],
        [0, 3],
      ])!,
      12,
    );
    expect(pneumonia).toMatchObject({ positives: 5, ratings: 9 });
    expect(pneumonia.alpha).not.toBeNull();
    // Nobody said Tuberculosis anywhere: unanimous, so chance-corrected agreement is undefined.
    const tb = r.perLabel.find((x) => x.label === 'Tuberculosis')!;
    expect(tb).toMatchObject({ kappa: null, alpha: null, positives: 0, ratings: 9 });
    expect(r.alpha).not.toBeNull();
    expect(r.alpha!).toBeLessThanOrEqual(1);
  });

  it('treats a reader missing from a scan as missing, not as "absent"', () => {
    const full: GlobalReading[][] = [
      [
        { readerId: 'R1', labels: ['COPD'] },
        { readerId: 'R2', labels: ['COPD'] },
      ],
      [
        { readerId: 'R1', labels: ['No finding'] },
        { readerId: 'R2', labels: ['No finding'] },
      ],
    ];
    // R3 read only the first scan and agreed; its absence from the second must not count as a "no".
    const withPartialReader = [[...full[0]!, { readerId: 'R3', labels: ['COPD'] as const }], full[1]!];
    const copd = globalLabelAgreement(withPartialReader).perLabel.find((x) => x.label === 'COPD')!;
    expect(copd.kappa).toBeCloseTo(1, 12);
    expect(copd.alpha).toBeCloseTo(1, 12);
    expect(copd.ratings).toBe(5);
  });

  it('returns null everywhere for a single unanimous scan', () => {
    const r = globalLabelAgreement([
      [
        { readerId: 'R1', labels: ['No finding'] },
        { readerId: 'R2', labels: ['No finding'] },
      ],
    ]);
    expect(r.perLabel.every((x) => x.kappa === null && x.alpha === null)).toBe(true);
    expect(r.alpha).toBe(1);
  });
});
