import { afterAll, describe, expect, it } from 'vitest';
import { decodePixels } from '../../src/dicom/decode.js';
import { deidentify } from '../../src/dicom/deidentify.js';
import { type DicomElement, stringElement, usElement } from '../../src/dicom/dicom-writer.js';
import { inspectDicom } from '../../src/dicom/inspect.js';
import { makeSyntheticChest } from '../../src/dicom/synthetic.js';
import { TAG } from '../../src/dicom/tags.js';
import { createUidMapper } from '../../src/dicom/uid-mapper.js';
import { ToolDir } from './fixtures.js';

/**
 * De-identification checked with an independent reader (DCMTK's dcmdump): the identifying
 * attributes of PS3.15 Table E.1-1 planted in the input are gone, the UIDs are replaced
 * consistently, and what reading needs (sex, age, spacing, windows, VOI LUT, rescale, pixels)
 * is kept.
 */
const tools = new ToolDir();
afterAll(() => tools.cleanup());

const ORIGINAL_SOP = '1.2.826.0.1.3680043.2.1125.99.1234567890';
const ORIGINAL_STUDY = '1.2.826.0.1.3680043.2.1125.99.77';

/** Identifying attributes (Table E.1-1 actions X/Z/D) with recognisable values, plus a private tag. */
const IDENTIFYING: [number, string, string][] = [
  [TAG.InstitutionName, 'LO', 'SECRET GENERAL HOSPITAL'],
  [TAG.InstitutionAddress, 'ST', '1 SECRET STREET'],
  [TAG.ReferringPhysicianName, 'PN', 'SECRET^REFERRER'],
  [TAG.StationName, 'SH', 'SECRETSTATION'],
  [TAG.StudyDescription, 'LO', 'SECRET STUDY DESC'],
  [TAG.SeriesDescription, 'LO', 'SECRET SERIES DESC'],
  [TAG.InstitutionalDepartmentName, 'LO', 'SECRET DEPT'],
  [TAG.PerformingPhysicianName, 'PN', 'SECRET^PERFORMER'],
  [TAG.OperatorsName, 'PN', 'SECRET^OPERATOR'],
  [TAG.AccessionNumber, 'SH', 'SECRETACC42'],
  [TAG.StudyDate, 'DA', '20190304'],
  [TAG.SeriesDate, 'DA', '20190305'],
  [TAG.AcquisitionDate, 'DA', '20190306'],
  [TAG.ContentDate, 'DA', '20190307'],
  [TAG.StudyTime, 'TM', '101112'],
  [TAG.IssuerOfPatientID, 'LO', 'SECRET ISSUER'],
  [TAG.OtherPatientIDs, 'LO', 'SECRETOTHERID'],
  [TAG.PatientAddress, 'LO', 'SECRET ADDRESS'],
  [TAG.PatientComments, 'LT', 'SECRET COMMENT'],
  [TAG.DeviceSerialNumber, 'LO', 'SECRETSERIAL'],
  [TAG.StudyID, 'SH', 'SECRETSTUDYID'],
  [TAG.ImageComments, 'LT', 'SECRET IMAGE COMMENT'],
  [TAG.FrameOfReferenceUID, 'UI', '1.2.826.0.1.3680043.2.1125.99.55'],
  [0x00091010, 'LO', 'SECRET PRIVATE'],
];

function identifiedFile(transferSyntax?: string, sopInstanceUid = ORIGINAL_SOP) {
  const extra: DicomElement[] = IDENTIFYING.map(([tag, vr, v]) => stringElement(tag, vr, v));
  // A VOI LUT Sequence: reading needs it, so the basic profile keeps it.
  const lutData = new Uint8Array(8);
  new DataView(lutData.buffer).setUint16(2, 4095, true);
  extra.push({
    tag: TAG.VOILUTSequence,
    vr: 'SQ',
    items: [
      [
        usElement(TAG.LUTDescriptor, [4, 0, 12]),
        stringElement(TAG.LUTExplanation, 'LO', 'TESTLUT'),
        { tag: TAG.LUTData, vr: 'OW', value: lutData },
      ],
    ],
  });
  return makeSyntheticChest({
    rows: 32,
    columns: 30,
    seed: 31,
    transferSyntax,
    sopInstanceUid,
    studyInstanceUid: ORIGINAL_STUDY,
    seriesInstanceUid: `${ORIGINAL_STUDY}.1`,
    patientName: 'SECRET^PATIENT',
    patientId: 'SECRETPID',
    patientBirthDate: '19500102',
    patientSex: 'F',
    patientAge: '069Y',
    pixelSpacingMm: [0.143, 0.144],
    window: { center: 2000, width: 3000 },
    rescale: { slope: 1, intercept: -1024 },
    extraElements: extra,
  });
}

// Whole dates, not bare years: a 4-digit year can occur by chance inside a new random 2.25 UID.
const SECRETS = [
  'SECRET',
  '19500102',
  '20190304',
  '20190305',
  '20190306',
  '20190307',
  'PATIENT',
  ORIGINAL_SOP,
  ORIGINAL_STUDY,
  '1125.99',
];

describe('deidentify', () => {
  for (const [label, syntax] of [
    ['explicit VR LE', undefined],
    ['big endian', '1.2.840.10008.1.2.2'],
    ['implicit VR LE', '1.2.840.10008.1.2'],
    ['RLE', '1.2.840.10008.1.2.5'],
  ] as const) {
    it(`basic profile (${label}): dcmdump finds no identifying attribute; reading attributes and pixels kept`, async () => {
      const source = identifiedFile(syntax);
      const r = deidentify(source.bytes, { profile: 'basic', uidMap: createUidMapper() });
      if (!r.ok) throw new Error(r.error.message);
      const dump = tools.dump(r.value, ['+L']);
      for (const s of SECRETS) expect(dump, s).not.toContain(s);
      for (const [tag, vr] of IDENTIFYING) {
        const t = tagText(tag);
        // Z attributes may remain, but only empty; U attributes only with a new 2.25 UID.
        const line = dump.split('\n').find((l) => l.startsWith(t));
        if (line && vr === 'UI') expect(line, t).toMatch(/UI \[2\.25\.\d+\]/);
        else if (line) expect(line, t).toContain('no value available');
      }
      expect(dump).toMatch(/\(0010,0040\) CS \[F\]/);
      expect(dump).toMatch(/\(0010,1010\) AS \[069Y\]/);
      expect(dump).toMatch(/\(0028,0030\) DS \[0\.143\\0\.144\]/);
      expect(dump).toMatch(/\(0028,1050\) DS \[976\]/);
      expect(dump).toMatch(/\(0028,1051\) DS \[3000\]/);
      expect(dump).toMatch(/\(0028,1052\) DS \[-1024\]/);
      expect(dump).toContain('(0028,3010) SQ');
      expect(dump).toContain('TESTLUT');
      expect(dump).toMatch(/\(0012,0062\) CS \[YES\]/);
      expect(dump).not.toContain('(0009,');
      const info = inspectDicom(r.value);
      expect(info.ok && info.value.hasVoiLutSequence).toBe(true);
      const decoded = await decodePixels(r.value);
      expect(decoded.ok && Array.from(decoded.value.data)).toEqual(Array.from(source.image.data));
    });
  }

  it('vindr profile keeps exactly the 25 attributes (plus the meta header)', () => {
    const r = deidentify(identifiedFile().bytes, { profile: 'vindr', uidMap: createUidMapper() });
    if (!r.ok) throw new Error(r.error.message);
    const dump = tools.dump(r.value);
    const dataset = dump.split('# Dicom-Data-Set')[1] ?? '';
    const tags = [...dataset.matchAll(/^\((\w{4}),(\w{4})\)/gm)].map((m) => `${m[1]},${m[2]}`);
    const allowed = new Set([
      '0010,0040',
      '0010,1010',
      '0010,1020',
      '0010,1030',
      '0028,0002',
      '0028,0004',
      '0028,0008',
      '0028,0010',
      '0028,0011',
      '0028,0030',
      '0028,0034',
      '0028,0100',
      '0028,0101',
      '0028,0102',
      '0028,0103',
      '0028,0106',
      '0028,0107',
      '0028,1050',
      '0028,1051',
      '0028,1052',
      '0028,1053',
      '0028,2110',
      '0028,2112',
      '0028,2114',
      '7fe0,0010',
    ]);
    expect(allowed.size).toBe(25);
    expect(tags.filter((t) => !allowed.has(t))).toEqual([]);
    for (const s of SECRETS) expect(dump, s).not.toContain(s);
    expect(tags).toContain('0010,0040');
    expect(tags).toContain('7fe0,0010');
  });

  it('replaces UIDs consistently within a study and never keeps the original SOP Instance UID', () => {
    const map = createUidMapper();
    const a = deidentify(identifiedFile(undefined, `${ORIGINAL_SOP}.1`).bytes, {
      profile: 'basic',
      uidMap: map,
    });
    const b = deidentify(identifiedFile(undefined, `${ORIGINAL_SOP}.2`).bytes, {
      profile: 'basic',
      uidMap: map,
    });
    if (!a.ok || !b.ok) throw new Error('deidentify failed');
    const study = (d: string) => /\(0020,000d\) UI \[([\d.]+)\]/.exec(d)?.[1];
    const sop = (d: string) => /\(0008,0018\) UI \[([\d.]+)\]/.exec(d)?.[1];
    const da = tools.dump(a.value);
    const db = tools.dump(b.value);
    expect(study(da)).toBeDefined();
    expect(study(da)).toBe(study(db));
    expect(study(da)).toMatch(/^2\.25\.\d+$/);
    expect(sop(da)).not.toBe(sop(db));
    expect(da).not.toContain(ORIGINAL_SOP);
    // The meta header carries the new UID too.
    expect(/\(0002,0003\) UI \[([\d.]+)\]/.exec(da)?.[1]).toBe(sop(da));
  });

  it('keeps encapsulated pixel data and its transfer syntax (JPEG-LS from dcmcjpls)', async () => {
    const source = identifiedFile();
    const jls = tools.convert(source.bytes, 'dcmcjpls', []);
    const r = deidentify(jls, { profile: 'basic', uidMap: createUidMapper() });
    if (!r.ok) throw new Error(r.error.message);
    const dump = tools.dump(r.value);
    expect(dump).toContain('JPEGLSLossless');
    for (const s of SECRETS) expect(dump, s).not.toContain(s);
    const decoded = await decodePixels(r.value);
    expect(decoded.ok && Array.from(decoded.value.data)).toEqual(Array.from(source.image.data));
  });

  it('refuses a broken file instead of writing one', () => {
    const r = deidentify(new TextEncoder().encode('not dicom'), {
      profile: 'basic',
      uidMap: createUidMapper(),
    });
    expect(r.ok ? 'accepted' : r.error.code).toBe('dicom_not_dicom');
  });
});

function tagText(tag: number): string {
  const h = tag.toString(16).padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}
