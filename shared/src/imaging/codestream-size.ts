/**
 * Reads the image size a compressed frame declares, without decoding it. Codecs allocate their
 * output from these numbers, so checking them against Rows/Columns first stops a hostile
 * fragment from making a codec allocate gigabytes.
 */
export interface CodestreamSize {
  rows: number;
  columns: number;
  /** Sample precision declared by the codestream (JPEG P, J2K Ssiz + 1). */
  precision: number;
  components: number;
}

/**
 * JPEG (ITU T.81) and JPEG-LS (T.87) frames: finds the first SOFn marker (C0-CF except C4, C8,
 * CC; F7 for JPEG-LS) and reads P, Y, X, Nf.
 */
export function jpegFrameSize(bytes: Uint8Array): CodestreamSize | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return undefined;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7;
    if (isSof) {
      if (p + 10 > bytes.length) return undefined;
      return {
        precision: bytes[p + 4]!,
        rows: (bytes[p + 5]! << 8) | bytes[p + 6]!,
        columns: (bytes[p + 7]! << 8) | bytes[p + 8]!,
        components: bytes[p + 9]!,
      };
    }
    if (marker === 0xda || len < 2) return undefined; // scan data before any frame header
    p += 2 + len;
  }
  return undefined;
}

/**
 * JPEG 2000 codestream (ISO 15444-1 A.5.1): SOC (FF4F) then SIZ (FF51). Also accepts a JP2 file
 * wrapper by searching for the codestream box's SOC+SIZ pair.
 */
export function j2kFrameSize(bytes: Uint8Array): CodestreamSize | undefined {
  let p = -1;
  const limit = Math.min(bytes.length - 1, 4096);
  for (let i = 0; i < limit; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0x4f && bytes[i + 2] === 0xff && bytes[i + 3] === 0x51) {
      p = i + 2;
      break;
    }
  }
  if (p < 0 || p + 42 > bytes.length) return undefined;
  const u32 = (o: number) =>
    ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
  // SIZ: marker(2) Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) XTsiz YTsiz XTOsiz YTOsiz Csiz(2) Ssiz...
  const xsiz = u32(p + 6);
  const ysiz = u32(p + 10);
  const xo = u32(p + 14);
  const yo = u32(p + 18);
  const components = (bytes[p + 38]! << 8) | bytes[p + 39]!;
  const ssiz = bytes[p + 40]!;
  return { columns: xsiz - xo, rows: ysiz - yo, precision: (ssiz & 0x7f) + 1, components };
}
