/**
 * Pure greyscale pixel pipeline shared by the server (import, thumbnails) and the browser
 * viewer: stored-value unpacking, RLE, modality LUT, VOI, MONOCHROME1 inversion, 8-bit tables,
 * relative chest presets. No imports outside this folder.
 */
export * from './types.js';
export * from './stored-values.js';
export * from './rle.js';
export * from './modality-lut.js';
export * from './voi.js';
export * from './display-lut.js';
export * from './window-presets.js';
export * from './codestream-size.js';
export * from './preview.js';
