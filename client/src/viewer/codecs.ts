import charlsWasmUrl from '@cornerstonejs/codec-charls/decodewasm?url';
import openjpegWasmUrl from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import { type Codecs, DicomError, type RawSamples, TRANSFER_SYNTAX } from './dicom.js';
import type { PixelModule } from './pipeline.js';

/**
 * The maintained codecs, each loaded on first use (WASM start-up costs 13-135 ms, and most
 * files are native). Only ever imported by the decode worker.
 */

type CharLS = Awaited<ReturnType<typeof import('@cornerstonejs/codec-charls/decodewasmjs').default>>;
type OpenJpeg = Awaited<ReturnType<typeof import('@cornerstonejs/codec-openjpeg/decodewasmjs').default>>;

let charls: Promise<CharLS> | undefined;
let openjpeg: Promise<OpenJpeg> | undefined;

function loadCharls(): Promise<CharLS> {
  charls ??= import('@cornerstonejs/codec-charls/decodewasmjs').then((m) =>
    m.default({ locateFile: () => charlsWasmUrl }),
  );
  return charls;
}

function loadOpenJpeg(): Promise<OpenJpeg> {
  openjpeg ??= import('@cornerstonejs/codec-openjpeg/decodewasmjs').then((m) =>
    m.default({ locateFile: () => openjpegWasmUrl }),
  );
  return openjpeg;
}

function typed(bytes: Uint8Array, bytesPerSample: number, signed: boolean): RawSamples {
  // Copy out of the WASM heap: the decoder is deleted right after.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (bytesPerSample === 1) return signed ? new Int8Array(copy.buffer) : copy;
  return signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer);
}

function runEmscripten(decoder: EmscriptenDecoder, encoded: Uint8Array, module: PixelModule): RawSamples {
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (info.width !== module.columns || info.height !== module.rows || info.componentCount !== 1) {
      throw new DicomError(`codec output ${info.width} x ${info.height} does not match the header`);
    }
    return typed(
      decoder.getDecodedBuffer(),
      info.bitsPerSample > 8 ? 2 : 1,
      module.pixelRepresentation === 1,
    );
  } finally {
    decoder.delete();
  }
}

export const browserCodecs: Codecs = {
  async decode(syntax, encoded, module) {
    switch (syntax) {
      case TRANSFER_SYNTAX.jpegLsLossless:
      case TRANSFER_SYNTAX.jpegLsNear: {
        const codec = await loadCharls();
        return runEmscripten(new codec.JpegLSDecoder(), encoded, module);
      }
      case TRANSFER_SYNTAX.j2kLossless:
      case TRANSFER_SYNTAX.j2k: {
        const codec = await loadOpenJpeg();
        return runEmscripten(new codec.J2KDecoder(), encoded, module);
      }
      case TRANSFER_SYNTAX.jpegLossless57:
      case TRANSFER_SYNTAX.jpegLossless70: {
        const { Decoder } = await import('jpeg-lossless-decoder-js');
        const bytesPerSample = module.bitsAllocated > 8 ? 2 : 1;
        const out = new Decoder().decode(
          encoded.buffer,
          encoded.byteOffset,
          encoded.byteLength,
          bytesPerSample,
        );
        const raw = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        return typed(raw, bytesPerSample, module.pixelRepresentation === 1);
      }
      default:
        throw new DicomError(`no codec for transfer syntax ${syntax}`);
    }
  },
};
