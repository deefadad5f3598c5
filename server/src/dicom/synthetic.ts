import { encodeRleFrame, type Photometric, type StoredImage } from './imaging.js';
import {
  concat,
  type DicomElement,
  dsElement,
  stringElement,
  uiElement,
  usElement,
  writePart10,
} from './dicom-writer.js';
import { chestAttenuation } from './synthetic-anatomy.js';
import { DX_FOR_PRESENTATION, TAG } from './tags.js';
import { EXPLICIT_VR_LE, RLE_LOSSLESS } from './transfer-syntax.js';

export interface SyntheticChestOptions {
  rows?: number;
  columns?: number;
  bitsStored?: number;
  /** 16 by default; 8 only with bitsStored <= 8. */
  bitsAllocated?: 8 | 16;
  pixelRepresentation?: 0 | 1;
  photometric?: Photometric;
  /** Native syntaxes and RLE are written by our own code; others come from DCMTK in tests. */
  transferSyntax?: string;
  seed?: number;
  /** `null` leaves the attribute out (as in VinDr-CXR's released files). */
  sopInstanceUid?: string | null;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  patientAge?: string;
  pixelSpacingMm?: [number, number];
  /** `null` writes no window; default is a window fitted to the generated values. */
  window?: { center: number; width: number } | null;
  rescale?: { slope: number; intercept: number };
  /** Ones written above Bits Stored, to prove readers mask them (real files carry such junk). */
  junkHighBits?: boolean;
  /** Appended as-is (e.g. identifying attributes for de-identification tests). */
  extraElements?: DicomElement[];
}

export interface SyntheticChest {
  bytes: Uint8Array;
  /** The stored values the file encodes, for comparing decoders against. */
  image: StoredImage;
}

/**
 * Generates a chest-X-ray-like DICOM file, deterministic from `seed`: demo data for `npm start`
 * and fixtures for tests. No real patient data is involved anywhere.
 */
export function makeSyntheticChestDicom(options: SyntheticChestOptions = {}): Uint8Array {
  return makeSyntheticChest(options).bytes;
}

/** Same as {@link makeSyntheticChestDicom} but also returns the expected stored values. */
export function makeSyntheticChest(options: SyntheticChestOptions = {}): SyntheticChest {
  const rows = options.rows ?? 3000;
  const columns = options.columns ?? 2800;
  const bitsAllocated = options.bitsAllocated ?? 16;
  const bitsStored = options.bitsStored ?? 12;
  const pixelRepresentation = options.pixelRepresentation ?? 0;
  const photometric = options.photometric ?? 'MONOCHROME2';
  const transferSyntaxUid = options.transferSyntax ?? EXPLICIT_VR_LE;
  const seed = options.seed ?? 1;
  if (bitsStored > bitsAllocated) throw new RangeError('bitsStored > bitsAllocated');

  const atten = new Float32Array(rows * columns);
  chestAttenuation(rows, columns, seed, atten);
  const maxUnsigned = 2 ** bitsStored - 1;
  const signedOffset = pixelRepresentation === 1 ? 2 ** (bitsStored - 1) : 0;
  // Films use the middle ~90% of the detector range; MONOCHROME1 stores dense as low.
  const lo = Math.round(maxUnsigned * 0.05);
  const hi = Math.round(maxUnsigned * 0.95);
  const data = pixelRepresentation === 1 ? new Int16Array(rows * columns) : new Uint16Array(rows * columns);
  for (let i = 0; i < atten.length; i++) {
    const brightness = lo + Math.round(atten[i]! * (hi - lo));
    const u = photometric === 'MONOCHROME1' ? maxUnsigned - brightness : brightness;
    data[i] = u - signedOffset;
  }
  const image: StoredImage = {
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit: bitsStored - 1,
    pixelRepresentation,
    photometric,
    data,
  };

  const native = nativeBytes(image, options.junkHighBits ?? false);
  const sopInstanceUid =
    options.sopInstanceUid === undefined ? `2.25.${seed}1${rows}${columns}` : options.sopInstanceUid;
  const windowDefault = {
    center: (lo + hi) / 2 - signedOffset,
    width: hi - lo,
  };
  const window = options.window === undefined ? windowDefault : options.window;
  const rescale = options.rescale ?? { slope: 1, intercept: 0 };
  const spacing = options.pixelSpacingMm ?? [0.139, 0.139];

  const els: DicomElement[] = [
    stringElement(TAG.SpecificCharacterSet, 'CS', 'ISO_IR 100'),
    stringElement(TAG.ImageType, 'CS', 'ORIGINAL\\PRIMARY'),
    uiElement(TAG.SOPClassUID, DX_FOR_PRESENTATION),
    stringElement(TAG.Modality, 'CS', 'DX'),
    stringElement(TAG.PatientName, 'PN', options.patientName ?? 'SYNTHETIC^CHEST'),
    stringElement(TAG.PatientID, 'LO', options.patientId ?? `SYN${seed}`),
    stringElement(TAG.PatientSex, 'CS', options.patientSex ?? 'O'),
    stringElement(TAG.BodyPartExamined, 'CS', 'CHEST'),
    stringElement(TAG.ViewPosition, 'CS', 'PA'),
    uiElement(TAG.StudyInstanceUID, options.studyInstanceUid ?? `2.25.${seed}2`),
    uiElement(TAG.SeriesInstanceUID, options.seriesInstanceUid ?? `2.25.${seed}3`),
    stringElement(TAG.InstanceNumber, 'IS', '1'),
    usElement(TAG.SamplesPerPixel, [1]),
    stringElement(TAG.PhotometricInterpretation, 'CS', photometric),
    usElement(TAG.Rows, [rows]),
    usElement(TAG.Columns, [columns]),
    dsElement(TAG.PixelSpacing, spacing),
    dsElement(TAG.ImagerPixelSpacing, spacing),
    usElement(TAG.BitsAllocated, [bitsAllocated]),
    usElement(TAG.BitsStored, [bitsStored]),
    usElement(TAG.HighBit, [bitsStored - 1]),
    usElement(TAG.PixelRepresentation, [pixelRepresentation]),
    dsElement(TAG.RescaleIntercept, [rescale.intercept]),
    dsElement(TAG.RescaleSlope, [rescale.slope]),
    stringElement(TAG.PresentationLUTShape, 'CS', photometric === 'MONOCHROME1' ? 'INVERSE' : 'IDENTITY'),
    stringElement(TAG.LossyImageCompression, 'CS', '00'),
  ];
  if (sopInstanceUid !== null) els.push(uiElement(TAG.SOPInstanceUID, sopInstanceUid));
  if (options.patientBirthDate) els.push(stringElement(TAG.PatientBirthDate, 'DA', options.patientBirthDate));
  if (options.patientAge) els.push(stringElement(TAG.PatientAge, 'AS', options.patientAge));
  if (window) {
    // Window values are in modality units (after rescale).
    els.push(dsElement(TAG.WindowCenter, [window.center * rescale.slope + rescale.intercept]));
    els.push(dsElement(TAG.WindowWidth, [window.width * Math.abs(rescale.slope)]));
  }
  if (transferSyntaxUid === RLE_LOSSLESS) {
    els.push({
      tag: TAG.PixelData,
      vr: 'OB',
      fragments: { basicOffsetTable: [0], fragments: [encodeRleFrame(native, image)] },
    });
  } else {
    els.push({ tag: TAG.PixelData, vr: bitsAllocated === 8 ? 'OB' : 'OW', value: evenLength(native) });
  }
  els.push(...(options.extraElements ?? []));

  const bytes = writePart10(
    {
      sopClassUid: DX_FOR_PRESENTATION,
      sopInstanceUid: sopInstanceUid ?? `2.25.${seed}9`,
      transferSyntaxUid,
    },
    els,
  );
  return { bytes, image };
}

/** Native little-endian pixel bytes of an image, optionally with junk above Bits Stored. */
export function nativeBytes(image: StoredImage, junkHighBits = false): Uint8Array {
  const n = image.rows * image.columns;
  const mask = 2 ** image.bitsStored - 1;
  const junk = junkHighBits ? ~mask & (image.bitsAllocated === 8 ? 0xff : 0xffff) : 0;
  if (image.bitsAllocated === 8) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (image.data[i]! & mask) | junk;
    return out;
  }
  const out = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = (image.data[i]! & mask) | junk;
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  }
  return out;
}

function evenLength(b: Uint8Array): Uint8Array {
  return b.length % 2 === 0 ? b : concat([b, new Uint8Array(1)]);
}
