import type { DisplayParams, LookupTable } from './types.js';

/**
 * Modality LUT (PS3.3 C.11.1): stored value -> output units. A Modality LUT Sequence wins over
 * Rescale Slope/Intercept when both are present, as the standard says the two are exclusive
 * and files that carry both were written by the table's author.
 */
export function modalityValue(
  stored: number,
  params: Pick<DisplayParams, 'rescaleSlope' | 'rescaleIntercept' | 'modalityLut'>,
): number {
  if (params.modalityLut) return lookup(params.modalityLut, stored);
  return stored * params.rescaleSlope + params.rescaleIntercept;
}

/** Table lookup with the standard's clamping: below the first mapped value -> first entry. */
export function lookup(lut: LookupTable, x: number): number {
  const n = lut.data.length;
  if (n === 0) return 0;
  let i = Math.floor(x) - lut.firstMapped;
  if (i < 0) i = 0;
  else if (i >= n) i = n - 1;
  return lut.data[i]!;
}

/** Largest output value of a table (2^bitsPerEntry - 1). */
export function lutMaxOutput(lut: LookupTable): number {
  return 2 ** lut.bitsPerEntry - 1;
}

/**
 * Reads a LUT Descriptor's three numbers (entries, first mapped, bits). Entries 0 means 65536
 * (PS3.3 C.11.1.1.1); a first-mapped value above 32767 in a US descriptor is a signed value
 * written unsigned, so it is reinterpreted when the pixel data is signed.
 */
export function lutFromDescriptor(
  descriptor: readonly number[],
  data: Uint16Array,
  signedInput: boolean,
  explanation?: string,
): LookupTable | undefined {
  const [entriesRaw, firstRaw, bitsRaw] = descriptor;
  if (entriesRaw === undefined || firstRaw === undefined || bitsRaw === undefined) return undefined;
  const entries = entriesRaw === 0 ? 65536 : entriesRaw;
  const firstMapped = signedInput && firstRaw > 32767 ? firstRaw - 65536 : firstRaw;
  // Some writers declare 16 bits per entry but store 8-bit data (or the reverse); the data
  // length is the authority on how many entries exist.
  const bitsPerEntry = bitsRaw >= 1 && bitsRaw <= 16 ? bitsRaw : 16;
  const table = data.length >= entries ? data.subarray(0, entries) : data;
  if (table.length === 0) return undefined;
  return explanation === undefined
    ? { firstMapped, bitsPerEntry, data: table }
    : { firstMapped, bitsPerEntry, data: table, explanation };
}
