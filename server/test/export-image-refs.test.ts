import { describe, expect, it } from 'vitest';
import { deidentify } from '../src/dicom/deidentify.js';
import { makeSyntheticChest } from '../src/dicom/synthetic.js';
import { derivedUid, readImageRefs } from '../src/export/image-refs.js';

const original = makeSyntheticChest({
  rows: 32,
  columns: 30,
  seed: 3,
  sopInstanceUid: '2.25.77',
  studyInstanceUid: '2.25.78',
  seriesInstanceUid: '2.25.79',
}).bytes;
const mapped = (uid: string) => `2.25.9${uid.replaceAll('.', '')}`;

function refsOf(profile: 'basic' | 'vindr') {
  const stored = deidentify(original, { profile, uidMap: mapped });
  if (!stored.ok) throw new Error(stored.error.message);
  const refs = readImageRefs(stored.value);
  if (!refs.ok) throw new Error(refs.error.message);
  return refs.value;
}

describe('what an SR references in a stored image', () => {
  it('R-EXPORT-7: basic profile: the mapped SOP, Study and Series UIDs of the file', () => {
    expect(refsOf('basic')).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
      sopInstanceUid: mapped('2.25.77'),
      studyInstanceUid: mapped('2.25.78'),
      seriesInstanceUid: mapped('2.25.79'),
      derivedStudy: false,
    });
  });

  it('R-EXPORT-7: VinDr keep-list: SOP UIDs from the meta header, Study/Series derived from the SOP UID', () => {
    const sop = mapped('2.25.77');
    expect(refsOf('vindr')).toMatchObject({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1',
      sopInstanceUid: sop,
      studyInstanceUid: derivedUid(`study:${sop}`),
      seriesInstanceUid: derivedUid(`series:${sop}`),
      derivedStudy: true,
    });
    expect(derivedUid('x')).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
  });
});
