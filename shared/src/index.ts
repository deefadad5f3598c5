export * from './model/labels.js';
export * from './model/schemas.js';
export * from './model/scan-doc.js';
export * from './model/consensus-record.js';
export * from './protocol/version.js';
export * from './protocol/close-codes.js';
export * from './protocol/errors.js';
export * from './consensus/index.js';
