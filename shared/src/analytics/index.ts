// Reading analytics (R-ANALYTICS-*): pure functions over plain data, so the client's capture,
// the server's API and the CLI export compute the same numbers.
export * from './active-time.js';
export * from './compute.js';
export * from './consensus-kept.js';
export * from './csv.js';
export * from './inputs.js';
export * from './stats.js';
export * from './survival.js';
export * from './vote-disputes.js';
