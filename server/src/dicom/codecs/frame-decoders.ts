import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import openJpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import type { Result } from '@cxr/shared';
import { type DicomError, dicomError } from '../errors.js';
import { type CodestreamSize, j2kFrameSize, jpegFrameSize, type PixelFormat } from '../imaging.js';

/**
 * Codec wiring for encapsulated syntaxes: each decoder takes one frame's bytes and returns one
 * sample per pixel (value in the low Bits Stored bits). Sizes declared inside the codestream are
 * checked against Rows/Columns BEFORE decoding, since the codecs allocate from them. The same
 * npm codecs run in the browser, so server thumbnails and the viewer see the same pixels.
 */
/** OpenJPEG logs every header it reads to stdout; codec logs would drown the server's own. */
const QUIET = { print: () => {}, printErr: () => {} };

export type FrameSamples = Uint8Array | Uint16Array | Int16Array;

export interface FrameDecoders {
  jpegLossless(frame: Uint8Array, format: PixelFormat): Promise<Result<FrameSamples, DicomError>>;
  jpegLs(frame: Uint8Array, format: PixelFormat): Promise<Result<FrameSamples, DicomError>>;
  jpeg2000(frame: Uint8Array, format: PixelFormat): Promise<Result<FrameSamples, DicomError>>;
}

/**
 * The Emscripten modules register global embind names, so each can be instantiated only once
 * per process ("Cannot register public name 'J2KDecoder' twice"): every decoder set shares these,
 * created lazily on first use (nothing at import time).
 */
let charls: ReturnType<typeof charlsFactory> | undefined;
let openJpeg: ReturnType<typeof openJpegFactory> | undefined;

/**
 * Creates decoders whose WASM modules load on first use (charls 16-135 ms, openjpeg ~13 ms) and
 * are then reused. Callers own the instance; nothing is created at import time.
 */
export function createFrameDecoders(): FrameDecoders {
  return {
    async jpegLossless(frame, format) {
      const size = checkSize(jpegFrameSize(frame), format, 'JPEG Lossless');
      if (!size.ok) return size;
      try {
        // The decoder reads from an ArrayBuffer: copy so offsets into a pooled buffer stay ours.
        // Not frame.slice(): on a Node Buffer (a file read from disk) that is a view, not a copy.
        const copy = new Uint8Array(frame);
        const out = new JpegLosslessDecoder().decode(copy.buffer, 0, copy.length, format.bitsAllocated / 8);
        if (!out) return fail('JPEG Lossless decoder returned nothing');
        return { ok: true, value: out };
      } catch (e) {
        return fail(`JPEG Lossless: ${message(e)}`);
      }
    },
    async jpegLs(frame, format) {
      const size = checkSize(jpegFrameSize(frame), format, 'JPEG-LS');
      if (!size.ok) return size;
      charls ??= charlsFactory(QUIET);
      const codec = await charls;
      return runEmscripten(new codec.JpegLSDecoder(), frame, format, 'JPEG-LS');
    },
    async jpeg2000(frame, format) {
      const size = checkSize(j2kFrameSize(frame), format, 'JPEG 2000');
      if (!size.ok) return size;
      openJpeg ??= openJpegFactory(QUIET);
      const codec = await openJpeg;
      return runEmscripten(new codec.J2KDecoder(), frame, format, 'JPEG 2000');
    },
  };
}

/** charls and openjpeg share the Emscripten decoder shape; the output view points into WASM memory. */
function runEmscripten(
  decoder: EmscriptenDecoder,
  frame: Uint8Array,
  format: PixelFormat,
  name: string,
): Result<FrameSamples, DicomError> {
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (info.width !== format.columns || info.height !== format.rows || info.componentCount !== 1) {
      return fail(`${name} frame decoded to ${info.width} x ${info.height} x ${info.componentCount}`);
    }
    const raw = decoder.getDecodedBuffer();
    const n = format.rows * format.columns;
    if (info.bitsPerSample <= 8) {
      if (raw.length < n) return fail(`${name} output is ${raw.length} bytes for ${n} pixels`);
      return { ok: true, value: raw.slice(0, n) };
    }
    if (raw.length < 2 * n) return fail(`${name} output is ${raw.length} bytes for ${n} pixels`);
    // Copy out of WASM memory (it is reused by the next decode) into an aligned array.
    const bytes = raw.slice(0, 2 * n);
    const samples = info.isSigned ? new Int16Array(bytes.buffer) : new Uint16Array(bytes.buffer);
    return { ok: true, value: samples };
  } catch (e) {
    return fail(`${name}: ${message(e)}`);
  } finally {
    decoder.delete();
  }
}

function checkSize(
  size: CodestreamSize | undefined,
  format: PixelFormat,
  name: string,
): Result<CodestreamSize, DicomError> {
  if (!size) return fail(`${name} frame has no readable frame header`);
  if (size.rows !== format.rows || size.columns !== format.columns) {
    return fail(
      `${name} frame is ${size.columns} x ${size.rows} but the header says ${format.columns} x ${format.rows}`,
    );
  }
  if (size.components !== 1) return fail(`${name} frame has ${size.components} components; 1 expected`);
  if (size.precision > 16)
    return fail(`${name} frame precision is ${size.precision} bits; at most 16 supported`);
  return { ok: true, value: size };
}

function fail(msg: string): Result<never, DicomError> {
  return { ok: false, error: dicomError('dicom_decode_failed', msg) };
}

function message(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (typeof e === 'number') return `codec error ${e}`;
  return 'codec error';
}
