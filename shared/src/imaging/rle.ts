import type { Decoded, PixelFormat } from './types.js';

/**
 * DICOM RLE Lossless (1.2.840.10008.1.2.5, PS3.5 Annex G): a 64-byte header (segment count and
 * 15 offsets) followed by one PackBits segment per byte plane, most significant plane first.
 * One sample per pixel only, since we refuse colour at import.
 */

const HEADER_BYTES = 64;
const MAX_SEGMENTS = 15;

/**
 * Decodes one RLE frame into native little-endian pixel bytes (`rows * columns * bitsAllocated/8`),
 * ready for `unpackStoredValues(..., {littleEndian: true})`. Never writes past the expected size,
 * so a hostile stream cannot make it allocate or loop more than the header allows.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  format: Pick<PixelFormat, 'rows' | 'columns' | 'bitsAllocated'>,
): Decoded<Uint8Array> {
  const bytesPerSample = format.bitsAllocated / 8;
  const pixels = format.rows * format.columns;
  if (frame.length < HEADER_BYTES) {
    return fail('rle_truncated', `RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    return fail(
      'rle_segments',
      `RLE frame has ${segments} segments; ${bytesPerSample} expected for ${format.bitsAllocated}-bit greyscale`,
    );
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  const out = new Uint8Array(pixels * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s]!;
    const end = s + 1 < segments ? offsets[s + 1]! : frame.length;
    if (start < HEADER_BYTES || end > frame.length || end < start) {
      return fail('rle_offsets', `RLE segment ${s} has offsets ${start}..${end} outside the frame`);
    }
    // Segment 0 is the most significant byte; in little-endian output it is the last byte.
    const plane = bytesPerSample - 1 - s;
    const written = unpackBits(frame, start, end, out, plane, bytesPerSample, pixels);
    if (written < pixels) {
      return fail('rle_short', `RLE segment ${s} decoded to ${written} of ${pixels} bytes`);
    }
  }
  return { ok: true, value: out };
}

/** PackBits decode of one segment into every `stride`-th byte of `out` from `plane`. */
function unpackBits(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  plane: number,
  stride: number,
  count: number,
): number {
  let p = start;
  let n = 0;
  while (p < end && n < count) {
    const header = src[p++]!;
    if (header < 128) {
      // Literal run of header + 1 bytes.
      const len = Math.min(header + 1, end - p, count - n);
      for (let k = 0; k < len; k++) out[(n + k) * stride + plane] = src[p + k]!;
      p += header + 1;
      n += len;
    } else if (header > 128) {
      // Replicate run: next byte repeated 257 - header times (header as int8 is -1..-127).
      if (p >= end) break;
      const value = src[p++]!;
      const len = Math.min(257 - header, count - n);
      for (let k = 0; k < len; k++) out[(n + k) * stride + plane] = value;
      n += len;
    }
    // header 128 (-128 as int8) is a no-op by the PackBits definition.
  }
  return n;
}

/**
 * Encodes native little-endian pixel bytes as one DICOM RLE frame. Used for demo files and
 * test fixtures; rows are encoded separately as Annex G requires, and each segment is padded
 * to an even length.
 */
export function encodeRleFrame(
  native: Uint8Array,
  format: Pick<PixelFormat, 'rows' | 'columns' | 'bitsAllocated'>,
): Uint8Array {
  const bytesPerSample = format.bitsAllocated / 8;
  const segments: Uint8Array[] = [];
  const row = new Uint8Array(format.columns);
  for (let s = 0; s < bytesPerSample; s++) {
    const plane = bytesPerSample - 1 - s;
    const parts = new ByteSink(format.rows * format.columns + format.rows * 2 + 2);
    for (let r = 0; r < format.rows; r++) {
      const base = r * format.columns;
      for (let c = 0; c < format.columns; c++) row[c] = native[(base + c) * bytesPerSample + plane]!;
      packBitsRow(row, parts);
    }
    if (parts.length % 2 === 1) parts.push(128);
    segments.push(parts.bytes());
  }
  if (segments.length > MAX_SEGMENTS) throw new RangeError('too many RLE segments');
  const total = HEADER_BYTES + segments.reduce((a, s) => a + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, segments.length, true);
  let offset = HEADER_BYTES;
  segments.forEach((seg, i) => {
    view.setUint32(4 + 4 * i, offset, true);
    out.set(seg, offset);
    offset += seg.length;
  });
  return out;
}

/** PackBits: runs of 3+ equal bytes become replicate runs, everything else literal runs. */
function packBitsRow(row: Uint8Array, sink: ByteSink): void {
  let i = 0;
  const n = row.length;
  while (i < n) {
    let run = 1;
    while (i + run < n && run < 128 && row[i + run] === row[i]) run++;
    if (run >= 3) {
      sink.push(257 - run);
      sink.push(row[i]!);
      i += run;
      continue;
    }
    let lit = 0;
    while (i + lit < n && lit < 128) {
      if (i + lit + 2 < n && row[i + lit] === row[i + lit + 1] && row[i + lit] === row[i + lit + 2]) break;
      lit++;
    }
    sink.push(lit - 1);
    for (let k = 0; k < lit; k++) sink.push(row[i + k]!);
    i += lit;
  }
}

/** Growable byte buffer; sized up front for the worst case so it rarely grows. */
class ByteSink {
  private buf: Uint8Array;
  length = 0;
  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }
  push(b: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function fail(code: string, message: string): Decoded<never> {
  return { ok: false, error: { code, message } };
}
