// Consensus maths: pure functions over plain data (no Yjs, no I/O), so the server's reveal, the
// moderator dashboard and the exports all compute the same numbers.
export * from './box-f1.js';
export * from './fleiss.js';
export * from './global-labels.js';
export * from './hungarian.js';
export * from './iou.js';
export * from './krippendorff.js';
export * from './wbf.js';
export * from './disputes.js';
