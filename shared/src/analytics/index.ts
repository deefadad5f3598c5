// Reading analytics (R-ANALYTICS-*): pure functions over plain data, so the client's capture,
// the server's API and the CLI export compute the same numbers.
export * from './active-time.js';
