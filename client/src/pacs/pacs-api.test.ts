import { describe, expect, it } from 'vitest';
import { dicomDate, shownDate, shownName, studyQueryString } from './pacs-api.js';

describe('the PACS picker query', () => {
  it('turns typed dates and ranges into DICOM dates, passing anything else on for the server to refuse', () => {
    const cases: Array<[string, string]> = [
      ['', ''],
      ['2024-03-15', '20240315'],
      ['20240315', '20240315'],
      ['2024-03-01 - 2024-03-31', '20240301-20240331'],
      ['20240301-20240331', '20240301-20240331'],
      ['2024-03-01 -', '20240301-'],
      ['- 2024-03-31', '-20240331'],
      ['March', 'March'],
    ];
    for (const [typed, dicom] of cases) expect(dicomDate(typed), typed).toBe(dicom);
  });

  it('sends only the fields filled in, trimmed, with the modality upper-cased', () => {
    const q = studyQueryString({
      patientId: ' P-1 ',
      accessionNumber: '',
      studyDate: '2024-03-15',
      modality: 'dx',
    });
    expect(Object.fromEntries(new URLSearchParams(q))).toEqual({
      PatientID: 'P-1',
      StudyDate: '20240315',
      ModalitiesInStudy: 'DX',
      limit: '50',
    });
  });

  it('shows DICOM dates and person names the way people read them', () => {
    expect(shownDate('20240315')).toBe('2024-03-15');
    expect(shownDate(null)).toBe('');
    expect(shownName('DOE^JANE')).toBe('DOE, JANE');
    expect(shownName(null)).toBe('');
  });
});
