import { deflateRawSync } from 'node:zlib';
import {
  DEFLATED_EXPLICIT_VR_LE,
  EXPLICIT_VR_BE,
  EXPLICIT_VR_LE,
  IMPLICIT_VR_LE,
} from './transfer-syntax.js';

/**
 * A small DICOM Part 10 writer. De-identification rebuilds files through it instead of patching
 * bytes, so nothing the profile drops can survive in a gap, and the synthetic generator uses it to
 * make fixtures in every native syntax. Values are held little endian; the writer swaps them
 * for Explicit VR Big Endian.
 */

/** One data element. Binary values are little endian bytes; strings are already padded. */
export type DicomElement =
  | { tag: number; vr: string; value: Uint8Array }
  | { tag: number; vr: 'SQ'; items: DicomElement[][] }
  | { tag: number; vr: 'OB' | 'OW'; fragments: EncapsulatedPixels };

/** Encapsulated pixel data (PS3.5 A.4): the Basic Offset Table then one item per fragment. */
export interface EncapsulatedPixels {
  basicOffsetTable: number[];
  fragments: Uint8Array[];
}

export interface Part10Header {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

/**
 * Our implementation class UID: a 2.25 (UUID-derived) root, so no organisation root is needed.
 * The version name is what dcmdump shows as the writing software.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.187940513094236385541352876830521766912';
export const IMPLEMENTATION_VERSION_NAME = 'CXR_CONSENSUS_1';

/** VRs whose explicit encoding uses a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
export const LONG_VRS: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

/** Bytes per number for VRs that need swapping in big endian. */
const SWAP_SIZE: Readonly<Record<string, number>> = {
  US: 2,
  SS: 2,
  OW: 2,
  AT: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  OF: 4,
  OL: 4,
  FD: 8,
  OD: 8,
  SV: 8,
  UV: 8,
  OV: 8,
};

/** Which syntaxes the writer can encode the dataset in; encapsulated ones use explicit LE. */
type DatasetEncoding = { explicit: boolean; littleEndian: boolean; deflate: boolean };

function datasetEncoding(transferSyntaxUid: string): DatasetEncoding {
  switch (transferSyntaxUid) {
    case IMPLICIT_VR_LE:
      return { explicit: false, littleEndian: true, deflate: false };
    case EXPLICIT_VR_BE:
      return { explicit: true, littleEndian: false, deflate: false };
    case DEFLATED_EXPLICIT_VR_LE:
      return { explicit: true, littleEndian: true, deflate: true };
    default:
      // Explicit VR LE and every encapsulated syntax.
      return { explicit: true, littleEndian: true, deflate: false };
  }
}

/** Writes preamble, DICM, File Meta Information and the dataset in the header's transfer syntax. */
export function writePart10(header: Part10Header, dataset: readonly DicomElement[]): Uint8Array {
  const parts = writePart10Parts(header, dataset);
  return parts.length === 1 ? parts[0]! : concat(parts);
}

/** Values at least this large are passed through as their own part instead of being copied. */
const PASS_THROUGH_BYTES = 64 * 1024;

/**
 * {@link writePart10} as consecutive byte ranges whose concatenation is the file: large
 * little-endian values (the pixel data) are views of the caller's arrays, not copies, so a 17 MB
 * film can be hashed and written (writev) without building it in memory again.
 */
export function writePart10Parts(header: Part10Header, dataset: readonly DicomElement[]): Uint8Array[] {
  const meta = new ByteWriter();
  const metaElements: DicomElement[] = [
    { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
    uiElement(0x00020002, header.sopClassUid),
    uiElement(0x00020003, header.sopInstanceUid),
    uiElement(0x00020010, header.transferSyntaxUid),
    uiElement(0x00020012, IMPLEMENTATION_CLASS_UID),
    stringElement(0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME),
  ];
  const le: DatasetEncoding = { explicit: true, littleEndian: true, deflate: false };
  for (const el of metaElements) writeElement(meta, el, le);
  const metaBytes = meta.bytes();

  const enc = datasetEncoding(header.transferSyntaxUid);
  const elements = sortElements(dataset).filter((el) => el.tag >>> 16 !== 0x0002); // meta written above
  // Large values (pixel data, fragments) pass through as views instead of being copied.
  const out = new ByteWriter(4096 + metaBytes.length, true);
  out.zeros(128);
  out.ascii('DICM');
  writeElement(out, { tag: 0x00020000, vr: 'UL', value: u32le(metaBytes.length) }, le);
  out.raw(metaBytes);
  if (enc.deflate) {
    const body = new ByteWriter();
    for (const el of elements) writeElement(body, el, enc);
    let deflated: Uint8Array = deflateRawSync(body.bytes());
    // The deflated stream is padded to an even length (PS3.5 A.5).
    if (deflated.length % 2 === 1) deflated = concat([deflated, new Uint8Array(1)]);
    out.raw(deflated);
  } else {
    for (const el of elements) writeElement(out, el, enc);
  }
  return out.parts();
}

/** Sorted by tag as PS3.5 7.1 requires; item contents are sorted recursively. */
function sortElements(elements: readonly DicomElement[]): DicomElement[] {
  return [...elements].sort((a, b) => a.tag - b.tag);
}

function writeElement(w: ByteWriter, el: DicomElement, enc: DatasetEncoding): void {
  if ('items' in el) {
    writeTagHeader(w, el.tag, 'SQ', 0xffffffff, enc);
    for (const item of el.items) {
      writeItemTag(w, 0xfffee000, 0xffffffff, enc);
      for (const child of sortElements(item)) writeElement(w, child, enc);
      writeItemTag(w, 0xfffee00d, 0, enc);
    }
    writeItemTag(w, 0xfffee0dd, 0, enc);
    return;
  }
  if ('fragments' in el) {
    writeTagHeader(w, el.tag, 'OB', 0xffffffff, enc);
    const bot = new Uint8Array(el.fragments.basicOffsetTable.length * 4);
    const botView = new DataView(bot.buffer);
    el.fragments.basicOffsetTable.forEach((o, i) => {
      botView.setUint32(i * 4, o, true);
    });
    writeItemTag(w, 0xfffee000, bot.length, enc);
    w.raw(bot);
    for (const frag of el.fragments.fragments) {
      const padded = frag.length % 2 === 1 ? concat([frag, new Uint8Array(1)]) : frag;
      writeItemTag(w, 0xfffee000, padded.length, enc);
      w.raw(padded);
    }
    writeItemTag(w, 0xfffee0dd, 0, enc);
    return;
  }
  let value = el.value;
  if (value.length % 2 === 1) {
    throw new RangeError(`element ${tagHex(el.tag)} has odd length ${value.length}`);
  }
  if (!enc.littleEndian) value = swapped(value, SWAP_SIZE[el.vr] ?? 1);
  writeTagHeader(w, el.tag, el.vr, value.length, enc);
  w.raw(value);
}

function writeTagHeader(w: ByteWriter, tag: number, vr: string, length: number, enc: DatasetEncoding): void {
  w.u16(tag >>> 16, enc.littleEndian);
  w.u16(tag & 0xffff, enc.littleEndian);
  if (!enc.explicit) {
    w.u32(length, enc.littleEndian);
    return;
  }
  w.ascii(vr);
  if (LONG_VRS.has(vr)) {
    w.u16(0, enc.littleEndian);
    w.u32(length, enc.littleEndian);
  } else {
    if (length > 0xffff) throw new RangeError(`element ${tagHex(tag)} too long for VR ${vr}`);
    w.u16(length, enc.littleEndian);
  }
}

/** Item and delimiter tags never carry a VR, in any syntax. */
function writeItemTag(w: ByteWriter, tag: number, length: number, enc: DatasetEncoding): void {
  w.u16(tag >>> 16, enc.littleEndian);
  w.u16(tag & 0xffff, enc.littleEndian);
  w.u32(length, enc.littleEndian);
}

/** Big-endian value bytes of a VR turned little endian (or back: the swap is its own inverse). */
export function swapForVr(value: Uint8Array, vr: string): Uint8Array {
  return swapped(value, SWAP_SIZE[vr] ?? 1);
}

function swapped(value: Uint8Array, size: number): Uint8Array {
  if (size === 1) return value;
  const out = new Uint8Array(value.length);
  for (let i = 0; i + size <= value.length; i += size) {
    for (let k = 0; k < size; k++) out[i + k] = value[i + size - 1 - k]!;
  }
  return out;
}

// ---- value builders -------------------------------------------------------------------------

const textEncoder = new TextEncoder();

/** A text element padded to even length with a space (or NUL for UI, PS3.5 6.2). */
export function stringElement(tag: number, vr: string, text: string): DicomElement {
  let bytes: Uint8Array = textEncoder.encode(text);
  if (bytes.length % 2 === 1) bytes = concat([bytes, new Uint8Array([vr === 'UI' ? 0 : 0x20])]);
  return { tag, vr, value: bytes };
}

export function uiElement(tag: number, uid: string): DicomElement {
  return stringElement(tag, 'UI', uid);
}

/** Decimal String with up to 16 characters per value (PS3.5 6.2). */
export function dsElement(tag: number, values: readonly number[]): DicomElement {
  return stringElement(tag, 'DS', values.map(formatDs).join('\\'));
}

export function usElement(tag: number, values: readonly number[]): DicomElement {
  const bytes = new Uint8Array(values.length * 2);
  const v = new DataView(bytes.buffer);
  values.forEach((n, i) => {
    v.setUint16(i * 2, n, true);
  });
  return { tag, vr: 'US', value: bytes };
}

export function formatDs(n: number): string {
  if (Number.isInteger(n)) return String(n);
  for (let digits = 10; digits > 0; digits--) {
    const s = String(Number(n.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(n));
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function tagHex(tag: number): string {
  const h = tag.toString(16).padStart(8, '0').toUpperCase();
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Append-only byte buffer that doubles when full. With `passThrough`, arrays of at least
 * PASS_THROUGH_BYTES given to `raw` are kept as views between the written chunks (read them
 * with `parts`), not copied.
 */
class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private readonly done: Uint8Array[] = [];
  constructor(
    initial = 4096,
    private readonly passThrough = false,
  ) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u16(n: number, le: boolean): void {
    this.ensure(2);
    this.view.setUint16(this.pos, n, le);
    this.pos += 2;
  }
  u32(n: number, le: boolean): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n, le);
    this.pos += 4;
  }
  ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
  zeros(n: number): void {
    this.ensure(n);
    this.pos += n;
  }
  raw(b: Uint8Array): void {
    if (this.passThrough && b.length >= PASS_THROUGH_BYTES) {
      // The chunk written so far is handed out as is; later bytes go to a fresh buffer.
      this.done.push(this.buf.subarray(0, this.pos), b);
      this.buf = new Uint8Array(4096);
      this.view = new DataView(this.buf.buffer);
      this.pos = 0;
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  bytes(): Uint8Array {
    if (this.done.length > 0) throw new Error('a pass-through writer is read with parts()');
    return this.buf.subarray(0, this.pos);
  }
  parts(): Uint8Array[] {
    return [...this.done, this.buf.subarray(0, this.pos)].filter((p) => p.length > 0);
  }
}

export const SUPPORTED_WRITE_SYNTAXES = [
  IMPLICIT_VR_LE,
  EXPLICIT_VR_LE,
  EXPLICIT_VR_BE,
  DEFLATED_EXPLICIT_VR_LE,
];
