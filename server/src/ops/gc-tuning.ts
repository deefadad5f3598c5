import v8 from 'node:v8';

export interface GcTuning {
  /** Let V8's helper threads share each young-generation collection (V8's own default). */
  readonly parallelScavenge: boolean;
}

/**
 * Garbage-collector settings for the process that serves (`cxr serve`), applied at start.
 * Tests that start servers inside their own process leave V8 as it is.
 *
 * A busy server collects its young generation about five times a second, and only about
 * 100 KB survives each collection. V8 still hands every one to helper threads, which on busy
 * cores wait for a core; about half the pauses then also finished, inside the pause, freeing
 * the young array buffers (0.5 ms) that a helper had not got to. On two cores, 50 busy rooms
 * (collab bench): pauses 0.66 ms on average and 0.8 ms at p90, against 0.90 and 1.3 ms; move
 * p99 better in seven of nine rounds.
 * The flag is read at every collection, so setting it once the process runs takes effect.
 */
export function applyGcTuning(tuning: GcTuning): void {
  if (!tuning.parallelScavenge) v8.setFlagsFromString('--no-parallel-scavenge');
}
