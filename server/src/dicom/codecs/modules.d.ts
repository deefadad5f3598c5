// The codec packages ship no type declarations (jpeg-lossless-decoder-js names a .d.ts it does
// not publish), so the surface we use is declared here and nowhere else.

interface EmscriptenFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): EmscriptenFrameInfo;
  delete(): void;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  interface CharlsModule {
    JpegLSDecoder: new () => EmscriptenDecoder;
  }
  const factory: (moduleArg?: object) => Promise<CharlsModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  interface OpenJpegModule {
    J2KDecoder: new () => EmscriptenDecoder;
  }
  const factory: (moduleArg?: object) => Promise<OpenJpegModule>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer | null, numBytes?: number);
    decode(
      buffer?: ArrayBuffer,
      offset?: number,
      length?: number,
      numBytes?: number,
    ): Uint8Array | Uint16Array | null;
  }
}
