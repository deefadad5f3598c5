import { DOC_ROOTS } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { formatStat } from '../consensus/AgreementDashboard.js';
import { readTallies } from './tallies.js';

describe('readTallies', () => {
  it('reads the server tallies and skips entries it cannot trust', () => {
    const doc = new Y.Doc();
    const map = doc.getMap(DOC_ROOTS.tallies);
    map.set('Other diseases', {
      label: 'Other diseases',
      readers: ['a', 'b'],
      share: 2 / 3,
      majority: 'present',
    });
    map.set('COPD', { label: 'COPD', readers: ['a', 7], share: 1 / 3, majority: 'weird' });
    map.set('Not a label', { readers: [], share: 0, majority: 'absent' });
    map.set('Pneumonia', 'garbage');
    const tallies = readTallies(doc);
    expect([...tallies.keys()].sort()).toEqual(['COPD', 'Other diseases']);
    expect(tallies.get('Other diseases')).toMatchObject({ readers: ['a', 'b'], majority: 'present' });
    // A reader id that is not a string is dropped; an unknown verdict counts as "absent".
    expect(tallies.get('COPD')).toMatchObject({ readers: ['a'], majority: 'absent' });
  });
});

describe('formatStat', () => {
  it('shows undefined statistics as unanimous / undefined, never as 0 or 1', () => {
    expect(formatStat(null)).toBe('unanimous / undefined');
    expect(formatStat(0.2099306)).toBe('0.210');
  });
});
