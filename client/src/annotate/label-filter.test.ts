import { LOCAL_LABELS } from '@cxr/shared';
import { describe, expect, it } from 'vitest';
import { filterLabels } from './label-filter.js';

describe('label type-ahead', () => {
  it('lists all 22 labels in CSV order for an empty query', () => {
    expect(filterLabels('')).toEqual([...LOCAL_LABELS]);
    expect(filterLabels('')).toHaveLength(22);
  });

  it('ranks prefix, then word, then initials, then substring matches', () => {
    expect(filterLabels('pl')).toEqual(['Pleural effusion', 'Pleural thickening']);
    expect(filterLabels('mass')[0]).toBe('Nodule/Mass');
    expect(filterLabels('pe')[0]).toBe('Pleural effusion');
    expect(filterLabels('opa')).toEqual(['Lung Opacity']);
    expect(filterLabels('lung')).toEqual(['Lung Opacity', 'Lung cavity', 'Lung cyst']);
    expect(filterLabels('zzz')).toEqual([]);
  });
});
