/**
 * Transfer syntaxes we accept, with how their pixel data is stored. Anything not listed is
 * refused with 415 naming the UID (and its name when we know it), rather than misread.
 */
export type PixelEncoding = 'native' | 'rle' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000';

export interface TransferSyntax {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  /** Dataset byte order; only Explicit VR Big Endian differs. */
  littleEndian: boolean;
  explicitVr: boolean;
  deflated: boolean;
  lossy: boolean;
}

const ts = (
  uid: string,
  name: string,
  encoding: PixelEncoding,
  extra: Partial<Pick<TransferSyntax, 'littleEndian' | 'explicitVr' | 'deflated' | 'lossy'>> = {},
): TransferSyntax => ({
  uid,
  name,
  encoding,
  littleEndian: extra.littleEndian ?? true,
  explicitVr: extra.explicitVr ?? true,
  deflated: extra.deflated ?? false,
  lossy: extra.lossy ?? false,
});

export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
export const JPEG_LOSSLESS_57 = '1.2.840.10008.1.2.4.57';
export const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';
export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
export const JPEG_LS_NEAR_LOSSLESS = '1.2.840.10008.1.2.4.81';
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
export const JPEG_2000 = '1.2.840.10008.1.2.4.91';

export const ACCEPTED_TRANSFER_SYNTAXES: readonly TransferSyntax[] = [
  ts(IMPLICIT_VR_LE, 'Implicit VR Little Endian', 'native', { explicitVr: false }),
  ts(EXPLICIT_VR_LE, 'Explicit VR Little Endian', 'native'),
  ts(DEFLATED_EXPLICIT_VR_LE, 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts(EXPLICIT_VR_BE, 'Explicit VR Big Endian', 'native', { littleEndian: false }),
  ts(RLE_LOSSLESS, 'RLE Lossless', 'rle'),
  ts(JPEG_LOSSLESS_57, 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'),
  ts(JPEG_LOSSLESS_SV1, 'JPEG Lossless, First-Order Prediction (Process 14, SV1)', 'jpeg-lossless'),
  ts(JPEG_LS_LOSSLESS, 'JPEG-LS Lossless', 'jpeg-ls'),
  ts(JPEG_LS_NEAR_LOSSLESS, 'JPEG-LS Near-Lossless', 'jpeg-ls', { lossy: true }),
  ts(JPEG_2000_LOSSLESS, 'JPEG 2000 (Lossless Only)', 'jpeg2000'),
  ts(JPEG_2000, 'JPEG 2000', 'jpeg2000', { lossy: true }),
];

/** Names of syntaxes we refuse, so the 415 message says what the file was. */
const KNOWN_REFUSED: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.201': 'HTJ2K (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'HTJ2K with RPCL (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
};

const BY_UID = new Map(ACCEPTED_TRANSFER_SYNTAXES.map((t) => [t.uid, t]));

export function acceptedTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

/** "JPEG Baseline (Process 1) (1.2.840.10008.1.2.4.50)" or just the UID when unknown. */
export function describeTransferSyntax(uid: string): string {
  const name = BY_UID.get(uid)?.name ?? KNOWN_REFUSED[uid];
  return name ? `${name} (${uid})` : uid;
}
