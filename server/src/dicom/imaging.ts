/**
 * The shared pure pixel pipeline, imported through one file so that switching to
 * `@cxr/shared` (once shared/src/index.ts re-exports `./imaging/index.js`) is a one-line change.
 */
export * from '../../../shared/src/imaging/index.js';
