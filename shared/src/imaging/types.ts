/**
 * Types shared by the server (import, thumbnails) and the browser viewer. Everything in
 * `imaging/` is pure: no imports outside this folder, no DOM, no Node, so the client can run
 * exactly the same pixel pipeline in a worker.
 */

/** Only greyscale radiographs are read; colour photometrics are refused at import. */
export type Photometric = 'MONOCHROME1' | 'MONOCHROME2';

/** How stored values are laid out (Image Pixel module, PS3.3 C.7.6.3). */
export interface PixelFormat {
  rows: number;
  columns: number;
  /** 8 or 16: the container width of one sample. */
  bitsAllocated: number;
  /** 1..bitsAllocated: how many of those bits carry the value. */
  bitsStored: number;
  /** Most significant stored bit; usually bitsStored - 1. */
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  photometric: Photometric;
}

/** Stored values, masked to Bits Stored and sign-extended when Pixel Representation is 1. */
export type StoredPixelArray = Uint16Array | Int16Array;

export interface StoredImage extends PixelFormat {
  /** Row-major, `rows * columns` values. */
  data: StoredPixelArray;
}

/** One Window Center/Width pair (PS3.3 C.11.2.1.2). */
export interface VoiWindow {
  center: number;
  width: number;
  explanation?: string;
}

/** VOI LUT Function (0028,1056); LINEAR is the default when absent. */
export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/**
 * A lookup table as given by a LUT Descriptor (first mapped value, bits per entry) and LUT Data.
 * Used for both the Modality LUT Sequence and the VOI LUT Sequence.
 */
export interface LookupTable {
  /** Input value mapped to entry 0; inputs below clamp to entry 0, above to the last entry. */
  firstMapped: number;
  /** Bits of each output entry (8..16); output range is 0 .. 2^bits - 1. */
  bitsPerEntry: number;
  data: Uint16Array;
  explanation?: string;
}

/** What turns stored values into grey levels, as read from the file. */
export interface DisplayParams {
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Modality LUT Sequence; when present it replaces the rescale. */
  modalityLut?: LookupTable;
  windows: VoiWindow[];
  voiLutFunction: VoiLutFunction;
  /** VOI LUT Sequence (first item); when present and chosen it replaces the window. */
  voiLut?: LookupTable;
}

/** A VOI transform chosen for display: either a window or a table. */
export type VoiTransform =
  | { kind: 'window'; center: number; width: number; fn: VoiLutFunction }
  | { kind: 'lut'; lut: LookupTable };

/**
 * Outcome of decoding untrusted bytes. Same shape as `Result` in `@cxr/shared` so callers can
 * pass it on, declared here because `imaging/` imports nothing outside itself.
 */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
