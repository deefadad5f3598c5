import { type Box, type CodedConcept, type ImageReading, labelCode, SR_CODING_SCHEME } from '@cxr/shared';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/dicom-writer.js';
import { derivedUid, type ImageRefs } from './image-refs.js';

/** What one SR says: a locked scan's consensus, the image it is about and who verified it. */
export interface SrInput {
  readonly sessionId: string;
  readonly scanId: string;
  readonly version: number;
  readonly sha256: string;
  readonly lockedAtMs: number;
  readonly verifier: { readonly id: string; readonly name: string };
  readonly image: ImageRefs;
  readonly content: ImageReading;
  /**
   * For the hospital's PACS, a scan imported from it: `image` then holds the original UIDs and
   * these the original patient and study modules, so the PACS files the SR with the patient's
   * study. Never set for an export route (R-PUSH-4).
   */
  readonly original?: OriginalModules;
}

/** Original patient and study attributes by DICOM keyword, as kept from a PACS import. */
export interface OriginalModules {
  readonly patient: Readonly<Record<string, string>>;
  readonly study: Readonly<Record<string, string>>;
}

/** The attributes taken from `OriginalModules`; anything else there is ignored. */
export const ORIGINAL_PATIENT = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAge',
] as const;
export const ORIGINAL_STUDY = [
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'StudyID',
  'ReferringPhysicianName',
  'StudyDescription',
] as const;
/** Type 2 attributes: present even when empty. */
const TYPE_2 = new Set<string>([
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'StudyID',
  'ReferringPhysicianName',
]);

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

const code = (value: string, scheme: string, meaning: string): CodedConcept => ({ value, scheme, meaning });
/** PS3.16 codes used by TID 1500 / 1410 / 1501 / 1600. */
const DCM = {
  report: code('126000', 'DCM', 'Imaging Measurement Report'),
  language: code('121049', 'DCM', 'Language of Content Item and Descendants'),
  observerType: code('121005', 'DCM', 'Observer Type'),
  person: code('121006', 'DCM', 'Person'),
  personName: code('121008', 'DCM', 'Person Observer Name'),
  procedure: code('121058', 'DCM', 'Procedure reported'),
  imageLibrary: code('111028', 'DCM', 'Image Library'),
  imageLibraryGroup: code('126200', 'DCM', 'Image Library Group'),
  measurements: code('126010', 'DCM', 'Imaging Measurements'),
  group: code('125007', 'DCM', 'Measurement Group'),
  trackingId: code('112039', 'DCM', 'Tracking Identifier'),
  trackingUid: code('112040', 'DCM', 'Tracking Unique Identifier'),
  finding: code('121071', 'DCM', 'Finding'),
  imageRegion: code('111030', 'DCM', 'Image Region'),
  sourceImage: code('260753009', 'SCT', 'Source'),
};
const ENGLISH = code('en-US', 'RFC5646', 'English (United States)');
const CHEST_XRAY = code('399208008', 'SCT', 'Plain chest X-ray');
/** Our own items: the record identity, so the SR proves which locked consensus it shows. */
const RECORD_HASH = code('CR-SHA256', SR_CODING_SCHEME.designator, 'Consensus record SHA-256');
const RECORD_ID = code('CR-ID', SR_CODING_SCHEME.designator, 'Consensus record');

const coded = (c: CodedConcept) => [
  { CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning },
];

function item(
  relationship: string,
  valueType: string,
  name: CodedConcept,
  rest: NaturalDataset = {},
): NaturalDataset {
  return {
    RelationshipType: relationship,
    ValueType: valueType,
    ConceptNameCodeSequence: coded(name),
    ...rest,
  };
}

const codeItem = (relationship: string, name: CodedConcept, value: CodedConcept) =>
  item(relationship, 'CODE', name, { ConceptCodeSequence: coded(value) });
const textItem = (name: CodedConcept, value: string) => item('CONTAINS', 'TEXT', name, { TextValue: value });

function container(relationship: string, name: CodedConcept, children: NaturalDataset[], template?: string) {
  return item(relationship, 'CONTAINER', name, {
    ContinuityOfContent: 'SEPARATE',
    ...(template
      ? { ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: template }] }
      : {}),
    ContentSequence: children,
  });
}

/**
 * The box as a closed POLYLINE of 5 points in image pixel coordinates (column, row). VinDr's
 * pixel coordinates are DICOM image coordinates already: origin at the top-left corner of the
 * top-left pixel, sub-pixel values allowed (PS3.3 C.18.6.1.2). GraphicData is FL (float32).
 */
export function boxPolyline(box: Box): number[] {
  const { x_min, y_min, x_max, y_max } = box;
  return [x_min, y_min, x_max, y_min, x_max, y_max, x_min, y_max, x_min, y_min];
}

/** DICOM DA/TM/DT in UTC from epoch milliseconds. */
function dicomDateTime(ms: number): { date: string; time: string } {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  return { date: iso.slice(0, 10).replaceAll('-', ''), time: iso.slice(11, 19).replaceAll(':', '') };
}

/**
 * The SR's SOP Instance UID, derived from the record (so sending or exporting one version again
 * names the same instance). An SR carrying original identities is another instance than the
 * de-identified export of the same record, so it gets a UID of its own.
 */
export function srSopInstanceUid(
  input: Pick<SrInput, 'sessionId' | 'scanId' | 'version' | 'sha256' | 'original'>,
): string {
  const recordKey = `${input.sessionId}/${input.scanId}@${input.version}:${input.sha256}`;
  return derivedUid(`${input.original ? 'sr-original' : 'sr'}:${recordKey}`);
}

/** The patient and study modules: the de-identified image's, or the original ones. */
function patientAndStudy(input: SrInput): NaturalDataset {
  const { image, original } = input;
  if (!original) {
    // Patient and study come from the de-identified image, so the SR files with it.
    return {
      PatientName: image.patient.name,
      PatientID: image.patient.id,
      PatientBirthDate: '',
      PatientSex: image.patient.sex,
      ...(image.patient.age ? { PatientAge: image.patient.age } : {}),
      StudyInstanceUID: image.studyInstanceUid,
      StudyDate: '',
      StudyTime: '',
      ReferringPhysicianName: '',
      StudyID: '',
      AccessionNumber: '',
    };
  }
  const modules: NaturalDataset = {};
  const copy = (keyword: string, from: Readonly<Record<string, string>>) => {
    const value = from[keyword];
    if (value !== undefined && value !== '') modules[keyword] = value;
    else if (TYPE_2.has(keyword)) modules[keyword] = '';
  };
  for (const keyword of ORIGINAL_PATIENT) copy(keyword, original.patient);
  modules.StudyInstanceUID = image.studyInstanceUid;
  for (const keyword of ORIGINAL_STUDY) copy(keyword, original.study);
  // Original names may hold any script; say so rather than leave the default repertoire.
  const text = [...Object.values(original.patient), ...Object.values(original.study)].join('');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range itself
  if (/[^\x00-\x7f]/.test(text)) modules.SpecificCharacterSet = 'ISO_IR 192';
  return modules;
}

/** The naturalized dataset of the SR (exposed for tests that look inside without a parser). */
export function srDataset(input: SrInput): NaturalDataset {
  const { image, content } = input;
  const when = dicomDateTime(input.lockedAtMs);
  const recordKey = `${input.sessionId}/${input.scanId}@${input.version}:${input.sha256}`;
  const sopInstanceUid = srSopInstanceUid(input);
  const imageRef = [
    { ReferencedSOPClassUID: image.sopClassUid, ReferencedSOPInstanceUID: image.sopInstanceUid },
  ];
  const selectedFrom = item('SELECTED FROM', 'IMAGE', DCM.sourceImage, { ReferencedSOPSequence: imageRef });
  // IMAGE items may omit the concept name; TID 1600 leaves it out, so drop what `item` added.
  const { ConceptNameCodeSequence: _unused, ...selectedFromImage } = selectedFrom;
  const libraryImage = { ...selectedFromImage, RelationshipType: 'CONTAINS' };

  let n = 0;
  const tracking = (label: string) => {
    n += 1;
    return [
      textItem(DCM.trackingId, `${n} ${label}`),
      item('CONTAINS', 'UIDREF', DCM.trackingUid, { UID: derivedUid(`finding:${recordKey}:${n}`) }),
    ];
  };
  const boxGroups = content.findings.flatMap((f) =>
    f.labels.map((label) =>
      container(
        'CONTAINS',
        DCM.group,
        [
          ...tracking(label),
          codeItem('CONTAINS', DCM.finding, labelCode(label)),
          item('CONTAINS', 'SCOORD', DCM.imageRegion, {
            GraphicType: 'POLYLINE',
            GraphicData: boxPolyline(f.box),
            ContentSequence: [selectedFromImage],
          }),
        ],
        '1410',
      ),
    ),
  );
  const globalGroups = content.globals.map((label) =>
    container(
      'CONTAINS',
      DCM.group,
      [...tracking(label), codeItem('CONTAINS', DCM.finding, labelCode(label))],
      '1501',
    ),
  );

  return {
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: when.date,
    InstanceCreationTime: when.time,
    TimezoneOffsetFromUTC: '+0000',
    CodingSchemeIdentificationSequence: [
      {
        CodingSchemeDesignator: SR_CODING_SCHEME.designator,
        CodingSchemeName: SR_CODING_SCHEME.name,
        CodingSchemeVersion: SR_CODING_SCHEME.version,
        CodingSchemeResponsibleOrganization: 'cxr-consensus',
      },
    ],
    ...patientAndStudy(input),
    Modality: 'SR',
    SeriesInstanceUID: derivedUid(`sr-series:${input.sessionId}:${image.studyInstanceUid}`),
    SeriesNumber: '9001',
    SeriesDescription: 'Consensus (cxr-consensus)',
    ReferencedPerformedProcedureStepSequence: [],
    Manufacturer: 'cxr-consensus',
    InstanceNumber: String(input.version),
    ContentDate: when.date,
    ContentTime: when.time,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'VERIFIED',
    VerifyingObserverSequence: [
      {
        VerifyingObserverName: input.verifier.name,
        VerifyingObserverIdentificationCodeSequence: [
          // User ids are longer than SH allows (16), hence Long Code Value (PS3.3 8.8).
          {
            LongCodeValue: input.verifier.id,
            CodingSchemeDesignator: SR_CODING_SCHEME.designator,
            CodeMeaning: input.verifier.name,
          },
        ],
        VerifyingOrganization: 'cxr-consensus panel moderator',
        VerificationDateTime: `${when.date}${when.time}+0000`,
      },
    ],
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: image.studyInstanceUid,
        ReferencedSeriesSequence: [
          { SeriesInstanceUID: image.seriesInstanceUid, ReferencedSOPSequence: imageRef },
        ],
      },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: coded(DCM.report),
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: [
      codeItem('HAS CONCEPT MOD', DCM.language, ENGLISH),
      codeItem('HAS OBS CONTEXT', DCM.observerType, DCM.person),
      item('HAS OBS CONTEXT', 'PNAME', DCM.personName, { PersonName: input.verifier.name }),
      codeItem('HAS CONCEPT MOD', DCM.procedure, CHEST_XRAY),
      container('CONTAINS', DCM.imageLibrary, [container('CONTAINS', DCM.imageLibraryGroup, [libraryImage])]),
      container('CONTAINS', DCM.measurements, [...boxGroups, ...globalGroups]),
      textItem(RECORD_ID, `${input.sessionId}/${input.scanId} version ${input.version}`),
      textItem(RECORD_HASH, input.sha256),
    ],
  };
}

/** R-EXPORT-7: a DICOM Part 10 Comprehensive SR (TID 1500), Explicit VR Little Endian. */
export function writeSr(input: SrInput): Uint8Array {
  const dataset = srDataset(input);
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: COMPREHENSIVE_SR,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  };
  const file = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  file.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(file.write());
}
