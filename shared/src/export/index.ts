// Exports of locked consensus (VinDr-CXR CSV, COCO, manifest): pure functions over plain data,
// shared by the server's routes, the CLI and the blind stage's CSV import.
export * from './agreement.js';
export * from './coco.js';
export * from './csv-text.js';
export * from './manifest.js';
export * from './number-format.js';
export * from './readings.js';
export * from './record-schema.js';
export * from './sr-codes.js';
export * from './vindr-csv.js';
export * from './vindr-parse.js';
export * from './vindr-readings.js';
