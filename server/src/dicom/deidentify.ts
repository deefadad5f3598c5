import { createHash } from 'node:crypto';
import type { DataSet, Element } from 'dicom-parser';
import type { Result } from '@cxr/shared';
import {
  BASIC_PROFILE_EMPTY,
  BASIC_PROFILE_KEEP,
  BASIC_PROFILE_REPLACE_UIDS,
  LUT_ITEM_KEEP,
  VINDR_KEEP,
} from './deid-profiles.js';
import {
  concat,
  type DicomElement,
  LONG_VRS,
  stringElement,
  swapForVr,
  uiElement,
  writePart10Parts,
} from './dicom-writer.js';
import type { DicomError } from './errors.js';
import { nativeFrameBytes } from './imaging.js';
import { cleanUid, type DicomInfo, describeParsed } from './inspect.js';
import { guardParser, type ParseLimits, type ParsedDicom, parseDicomBytes, VALID_VRS } from './parse.js';
import { DX_FOR_PRESENTATION, KNOWN_VR, parserKey, TAG, tagFromKey } from './tags.js';
import { EXPLICIT_VR_BE, EXPLICIT_VR_LE } from './transfer-syntax.js';

export type DeidProfile = 'basic' | 'vindr';

export interface DeidentifyOptions extends ParseLimits {
  /**
   * `basic`: PS3.15 Annex E Basic Application Level Confidentiality Profile with Retain Patient
   * Characteristics; `vindr`: the 25-attribute keep-list of VinDr-CXR's released files.
   */
  profile: DeidProfile;
  /**
   * Maps an original UID to its replacement. Pass the same mapper for every file of a study so
   * Study/Series UIDs stay consistent (see createUidMapper). Called with `sha256:<hex>` of the
   * file for a file that has no SOP Instance UID.
   */
  uidMap: (uid: string) => string;
  /**
   * SHA-256 (hex) of `bytes` when the caller already has it (import hashes on a worker thread);
   * needed only for a file without SOP Instance UID, and hashed here if absent.
   */
  sourceSha256?: string | undefined;
  /**
   * Write Study/Series UIDs (and the SOP Class/Instance UIDs) into the dataset when the profile
   * or the source left them out: a DICOMweb archive files instances by them and refuses an
   * instance without them. The values are the ones the SR export derives for such files.
   */
  completeUids?: boolean | undefined;
}

/** The de-identified UIDs of a rebuilt file (what an archive files it under). */
export interface DeidentifiedUids {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/** A rebuilt file as consecutive byte ranges, and the UIDs it carries (or that stand for missing ones). */
export interface Deidentified {
  readonly parts: Uint8Array[];
  readonly uids: DeidentifiedUids;
}

/**
 * A UID derived from text: `2.25.` + 128 bits of its SHA-256 as a decimal (PS3.5 B.2). The
 * same formula as export/image-refs.ts `derivedUid`, so a file completed here names the same
 * Study and Series an SR of an uncompleted copy would.
 */
export function derivedUid(text: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 32)}`)}`;
}

const DEID_METHOD =
  'PS3.15 Annex E Basic Application Confidentiality Profile, Retain Patient Characteristics';

/**
 * Rebuilds the file with only what the profile keeps, as Explicit VR Little Endian (or, for
 * encapsulated pixel data, the original syntax with fragments copied untouched, so lossless
 * stays lossless and nothing is re-encoded). The original SOP Instance UID never survives:
 * the dataset and the meta header both carry the mapped one.
 */
export function deidentify(bytes: Uint8Array, opts: DeidentifyOptions): Result<Uint8Array, DicomError> {
  const parts = deidentifyParts(bytes, opts);
  if (!parts.ok) return parts;
  return { ok: true, value: parts.value.length === 1 ? parts.value[0]! : concat(parts.value) };
}

/** {@link deidentifyParts} with the UIDs of the result. */
export function deidentifyWithUids(
  bytes: Uint8Array,
  opts: DeidentifyOptions,
): Result<Deidentified, DicomError> {
  const parsed = parseDicomBytes(bytes, opts);
  if (!parsed.ok) return parsed;
  const described = describeParsed(parsed.value);
  if (!described.ok) return described;
  return deidentifyParsed(parsed.value, described.value, bytes, opts);
}

/**
 * {@link deidentify} as consecutive byte ranges (see writePart10Parts): the pixel data stays a
 * view of `bytes`, so import can hash and write a film without copying it. `bytes` must not
 * change while the parts are in use.
 */
export function deidentifyParts(
  bytes: Uint8Array,
  opts: DeidentifyOptions,
): Result<Uint8Array[], DicomError> {
  const parsed = parseDicomBytes(bytes, opts);
  if (!parsed.ok) return parsed;
  const described = describeParsed(parsed.value);
  if (!described.ok) return described;
  const out = deidentifyParsed(parsed.value, described.value, bytes, opts);
  return out.ok ? { ok: true, value: out.value.parts } : out;
}

/**
 * {@link deidentifyParts} of a file its caller has already parsed and described (import does
 * both to validate; parsing once saves a pass over the header).
 */
export function deidentifyParsed(
  parsed: ParsedDicom,
  info: DicomInfo,
  bytes: Uint8Array,
  opts: DeidentifyOptions,
): Result<Deidentified, DicomError> {
  // Accessors throw on values cut short by truncation; those become error values.
  return guardParser(() => rebuild(parsed.dataSet, info, bytes, opts));
}

function rebuild(ds: DataSet, info: DicomInfo, bytes: Uint8Array, opts: DeidentifyOptions): Deidentified {
  const bigEndian = info.transferSyntaxUid === EXPLICIT_VR_BE;
  const keep = opts.profile === 'basic' ? BASIC_PROFILE_KEEP : VINDR_KEEP;
  const out: DicomElement[] = [];
  for (const key of Object.keys(ds.elements)) {
    const tag = tagFromKey(key);
    if (!keep.has(tag)) continue;
    const el = ds.elements[key]!;
    if (tag === TAG.PixelData) {
      out.push(
        pixelElement(ds, el, info.bitsAllocated, nativeFrameBytes(info), info.encapsulated, bigEndian),
      );
      continue;
    }
    const copied = copyElement(ds, el, tag, bigEndian);
    if (copied) out.push(copied);
  }

  const originalSop = cleanUid(ds.string(parserKey(TAG.SOPInstanceUID)));
  const sourceKey =
    originalSop ?? `sha256:${opts.sourceSha256 ?? createHash('sha256').update(bytes).digest('hex')}`;
  const newSop = opts.uidMap(sourceKey);
  const written = new Map<number, string>();
  if (opts.profile === 'basic') {
    for (const tag of BASIC_PROFILE_REPLACE_UIDS) {
      const uid = cleanUid(ds.string(parserKey(tag)));
      if (tag === TAG.SOPInstanceUID) out.push(uiElement(tag, newSop));
      else if (uid) {
        written.set(tag, opts.uidMap(uid));
        out.push(uiElement(tag, opts.uidMap(uid)));
      }
    }
    for (const [tag, vr] of BASIC_PROFILE_EMPTY) out.push({ tag, vr, value: new Uint8Array(0) });
    out.push(stringElement(TAG.PatientIdentityRemoved, 'CS', 'YES'));
    out.push(stringElement(TAG.DeidentificationMethod, 'LO', DEID_METHOD));
    out.push({
      tag: TAG.DeidentificationMethodCodeSequence,
      vr: 'SQ',
      items: [
        code('113100', 'Basic Application Confidentiality Profile'),
        code('113108', 'Retain Patient Characteristics Option'),
      ],
    });
  }
  const sopClassUid = cleanUid(ds.string(parserKey(TAG.SOPClassUID))) ?? DX_FOR_PRESENTATION;
  const studyInstanceUid = written.get(TAG.StudyInstanceUID) ?? derivedUid(`study:${newSop}`);
  const seriesInstanceUid = written.get(TAG.SeriesInstanceUID) ?? derivedUid(`series:${newSop}`);
  if (opts.completeUids) {
    const present = new Set(out.map((el) => el.tag));
    if (!present.has(TAG.SOPClassUID)) out.push(uiElement(TAG.SOPClassUID, sopClassUid));
    if (!present.has(TAG.SOPInstanceUID)) out.push(uiElement(TAG.SOPInstanceUID, newSop));
    if (!present.has(TAG.StudyInstanceUID)) out.push(uiElement(TAG.StudyInstanceUID, studyInstanceUid));
    if (!present.has(TAG.SeriesInstanceUID)) out.push(uiElement(TAG.SeriesInstanceUID, seriesInstanceUid));
  }
  const transferSyntaxUid = info.encapsulated ? info.transferSyntaxUid : EXPLICIT_VR_LE;
  return {
    parts: writePart10Parts({ sopClassUid, sopInstanceUid: newSop, transferSyntaxUid }, out),
    uids: { studyInstanceUid, seriesInstanceUid, sopInstanceUid: newSop },
  };
}

/** A kept attribute re-encoded little endian with an explicit VR; LUT sequence items filtered. */
export function copyElement(
  ds: DataSet,
  el: Element,
  tag: number,
  bigEndian: boolean,
): DicomElement | undefined {
  // The dictionary VR wins: a VR read from the file may be garbage or a long-length VR that
  // dicom-parser itself does not know (UV, SV, OV), and the writer must only emit real ones.
  let vr = KNOWN_VR.get(tag) ?? (el.vr && VALID_VRS.has(el.vr) ? el.vr : 'UN');
  if (el.items || vr === 'SQ') {
    const items = (el.items ?? []).map((item) => {
      const child = item.dataSet;
      if (!child) return [];
      return Object.keys(child.elements)
        .map((k) => ({ k, t: tagFromKey(k) }))
        .filter(({ t }) => LUT_ITEM_KEEP.has(t))
        .map(({ k, t }) => copyElement(child, child.elements[k]!, t, bigEndian))
        .filter((e): e is DicomElement => e !== undefined);
    });
    return { tag, vr: 'SQ', items };
  }
  const end = Math.min(el.dataOffset + el.length, ds.byteArray.length);
  let value: Uint8Array = ds.byteArray.slice(el.dataOffset, end);
  if (bigEndian) value = swapForVr(value, vr);
  if (value.length % 2 === 1)
    value = concat([value, new Uint8Array([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  // A short-length VR cannot hold more than 64 KiB; such a value can only be written as UN.
  if (value.length > 0xffff && !LONG_VRS.has(vr)) vr = 'UN';
  return { tag, vr, value };
}

function pixelElement(
  ds: DataSet,
  el: Element,
  bitsAllocated: number,
  frameBytes: number,
  encapsulated: boolean,
  bigEndian: boolean,
): DicomElement {
  if (encapsulated) {
    return {
      tag: TAG.PixelData,
      vr: 'OB',
      fragments: {
        basicOffsetTable: el.basicOffsetTable ?? [],
        fragments: (el.fragments ?? []).map((f) => ds.byteArray.subarray(f.position, f.position + f.length)),
      },
    };
  }
  const vr = bitsAllocated === 16 ? 'OW' : 'OB';
  // Only one frame is kept: trailing bytes beyond it are not part of the image. A view, not a
  // copy: the writer copies it once into the output (swapForVr makes its own copy).
  let value: Uint8Array = ds.byteArray.subarray(el.dataOffset, el.dataOffset + frameBytes);
  if (bigEndian) value = swapForVr(value, vr);
  if (value.length % 2 === 1) value = concat([value, new Uint8Array(1)]);
  return { tag: TAG.PixelData, vr, value };
}

function code(value: string, meaning: string): DicomElement[] {
  return [
    stringElement(TAG.CodeValue, 'SH', value),
    stringElement(TAG.CodingSchemeDesignator, 'SH', 'DCM'),
    stringElement(TAG.CodeMeaning, 'LO', meaning),
  ];
}
