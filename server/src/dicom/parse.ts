import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import type { Result } from '@cxr/shared';
import { type DicomError, dicomError } from './errors.js';
import {
  acceptedTransferSyntax,
  describeTransferSyntax,
  EXPLICIT_VR_BE,
  EXPLICIT_VR_LE,
  IMPLICIT_VR_LE,
  type TransferSyntax,
} from './transfer-syntax.js';

/**
 * Safe front end to dicom-parser: recognises the file kind first, refuses unknown transfer
 * syntaxes before reading the dataset, bounds deflate output, and turns the parser's thrown
 * strings and `{exception, dataSet}` objects into error values.
 */

export interface ParsedDicom {
  dataSet: DataSet;
  transferSyntax: TransferSyntax;
  /** False for a bare dataset without preamble and File Meta Information. */
  part10: boolean;
}

export interface ParseLimits {
  /**
   * Largest inflated dataset we accept from a Deflated file. A deflate stream can expand ~1000x,
   * so this is what keeps a 100 kB upload from allocating gigabytes. Default: the largest
   * image we accept (8192 x 8192 x 2 bytes) plus 16 MiB of header.
   */
  maxInflatedBytes?: number;
}

export const DEFAULT_MAX_INFLATED_BYTES = 8192 * 8192 * 2 + 16 * 1024 * 1024;

/** Every VR of PS3.5 6.2; anything else read from a file is garbage. */
export const VALID_VRS: ReadonlySet<string> = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);

export function parseDicomBytes(
  bytes: Uint8Array,
  limits: ParseLimits = {},
): Result<ParsedDicom, DicomError> {
  if (bytes.length === 0) return fail('dicom_empty', 'the file is empty');
  const hasMagic = bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM';
  if (!hasMagic) {
    if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'DICM') {
      return fail('dicom_no_preamble', 'the file starts with DICM: its 128-byte preamble is missing');
    }
    const guessed = guessBareDatasetSyntax(bytes);
    if (!guessed) {
      return fail(
        'dicom_not_dicom',
        'no DICM prefix at byte 128 and the bytes do not start like a DICOM dataset',
      );
    }
    return parseWith(bytes, guessed, false, limits);
  }
  let meta: DataSet;
  try {
    meta = dicomParser.readPart10Header(bytes);
  } catch (e) {
    return fail(
      isTruncation(e) ? 'dicom_truncated' : 'dicom_malformed',
      `file meta information unreadable: ${describe(e)}`,
    );
  }
  const uidRead = guardParser(() => meta.string('x00020010'));
  if (!uidRead.ok) return uidRead;
  const uid = uidRead.value;
  if (!uid) {
    // dicom-parser stops quietly at the end of the bytes, so a cut meta header looks like a
    // header without a transfer syntax: the declared group length tells the two apart.
    const lengthRead = guardParser(() => meta.uint32('x00020000'));
    const groupLength = lengthRead.ok ? lengthRead.value : undefined;
    if (groupLength === undefined || bytes.length < 144 + groupLength) {
      return fail('dicom_truncated', 'the file ends inside its File Meta Information');
    }
    return fail('dicom_missing_tag', 'Transfer Syntax UID (0002,0010) is missing');
  }
  const syntax = acceptedTransferSyntax(uid);
  if (!syntax) {
    return fail('dicom_unsupported_syntax', `unsupported transfer syntax ${describeTransferSyntax(uid)}`);
  }
  return parseWith(bytes, syntax, true, limits);
}

function parseWith(
  bytes: Uint8Array,
  syntax: TransferSyntax,
  part10: boolean,
  limits: ParseLimits,
): Result<ParsedDicom, DicomError> {
  const maxInflated = limits.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let inflateError: DicomError | undefined;
  // Our own inflater: dicom-parser's Node path needs a Buffer and inflates without a bound.
  const inflater = (arr: Uint8Array, position: number): Uint8Array => {
    try {
      const inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: maxInflated });
      const full = new Uint8Array(position + inflated.length);
      full.set(arr.subarray(0, position), 0);
      full.set(inflated, position);
      return full;
    } catch (e) {
      inflateError =
        e instanceof RangeError
          ? dicomError('dicom_too_large', `deflated dataset inflates beyond ${maxInflated} bytes`)
          : dicomError('dicom_malformed', `deflated dataset cannot be inflated: ${describe(e)}`);
      throw e;
    }
  };
  try {
    const dataSet = part10
      ? dicomParser.parseDicom(bytes, { inflater })
      : dicomParser.parseDicom(bytes, { TransferSyntaxUID: syntax.uid, inflater });
    return { ok: true, value: { dataSet, transferSyntax: syntax, part10 } };
  } catch (e) {
    if (inflateError) return { ok: false, error: inflateError };
    const inner = isRecord(e) && 'exception' in e ? e.exception : e;
    return fail(
      isTruncation(inner) ? 'dicom_truncated' : 'dicom_malformed',
      `dataset unreadable: ${describe(inner)}`,
    );
  }
}

/**
 * A dataset without preamble and meta header (old ACR-NEMA style exports): accept it only if
 * it starts with a plausible group (0008..0028, where every image's first attributes live) and
 * guess the encoding from whether a valid VR follows the tag.
 */
function guessBareDatasetSyntax(bytes: Uint8Array): TransferSyntax | undefined {
  if (bytes.length < 8) return undefined;
  const groupLe = bytes[0]! | (bytes[1]! << 8);
  const groupBe = (bytes[0]! << 8) | bytes[1]!;
  const plausible = (g: number) => g % 2 === 0 && g >= 0x0008 && g <= 0x0028;
  const vr = ascii(bytes, 4, 2);
  const explicit = VALID_VRS.has(vr);
  if (plausible(groupLe)) {
    if (explicit) return acceptedTransferSyntax(EXPLICIT_VR_LE);
    const length = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
    return length <= bytes.length - 8 ? acceptedTransferSyntax(IMPLICIT_VR_LE) : undefined;
  }
  if (plausible(groupBe) && explicit) return acceptedTransferSyntax(EXPLICIT_VR_BE);
  return undefined;
}

/**
 * Runs dicom-parser accessors, which throw strings when an element's value runs past the end of
 * a truncated file. Those are facts about the input, so they become error values; anything else
 * thrown is a bug and propagates.
 */
export function guardParser<T>(fn: () => T): Result<T, DicomError> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (typeof e !== 'string') throw e;
    return fail(isTruncation(e) ? 'dicom_truncated' : 'dicom_malformed', `unreadable attribute: ${e}`);
  }
}

/** dicom-parser reports running out of bytes in a handful of phrasings. */
function isTruncation(e: unknown): boolean {
  const m = describe(e);
  return /past end of buffer|buffer overread|buffer overrun|greater than or equal to 'byteArray' length|could not find/.test(
    m,
  );
}

function describe(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  return 'unknown parser error';
}

function isRecord(e: unknown): e is Record<string, unknown> {
  return typeof e === 'object' && e !== null;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function fail(code: Parameters<typeof dicomError>[0], message: string): Result<never, DicomError> {
  return { ok: false, error: dicomError(code, message) };
}
