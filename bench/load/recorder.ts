/** Send times of one room's moves and cursor moves, by sequence number (ms, performance.now()). */
export class RoomTimes {
  readonly moveSent: Float64Array;
  readonly cursorSent: Float64Array;
  movesSent = 0;
  cursorsSent = 0;

  constructor(
    moves: number,
    cursors: number,
    /** Driven by real WebsocketProvider clients (else by light clients). */
    readonly full: boolean,
  ) {
    this.moveSent = new Float64Array(moves).fill(Number.NaN);
    this.cursorSent = new Float64Array(cursors).fill(Number.NaN);
  }
}

/** Collects latencies; moves and cursor moves sent during the warm-up are not counted. */
export class Recorder {
  readonly moveLatency: number[] = [];
  /** Send time of each entry of `moveLatency` (ms, performance.now()), for the tail's shape. */
  readonly moveSentAt: number[] = [];
  readonly cursorLatency: number[] = [];
  /** The subset of `moveLatency` observed in rooms of real WebsocketProvider clients. */
  readonly fullMoveLatency: number[] = [];
  /** Worst move latency per 250 ms of send time (from the start of the measured window). */
  readonly timeline: number[] = [];
  measureStart = Number.NaN;
  /** Moves seen before they were sent, or seen twice by one observer: both mean a broken bench. */
  anomalies = 0;

  constructor(
    readonly warmupMoves: number,
    readonly warmupCursors: number,
  ) {}

  move(room: RoomTimes, seq: number, now: number): void {
    const sent = room.moveSent[seq];
    if (sent === undefined || Number.isNaN(sent)) {
      this.anomalies++;
      return;
    }
    if (seq < this.warmupMoves) return;
    this.moveLatency.push(now - sent);
    this.moveSentAt.push(sent);
    if (!Number.isNaN(this.measureStart)) {
      const slot = Math.max(0, Math.floor((sent - this.measureStart) / 250));
      this.timeline[slot] = Math.max(this.timeline[slot] ?? 0, now - sent);
    }
    if (room.full) this.fullMoveLatency.push(now - sent);
  }

  cursor(room: RoomTimes, move: number, now: number): void {
    const sent = room.cursorSent[move];
    if (sent === undefined || Number.isNaN(sent)) return;
    if (move >= this.warmupCursors) this.cursorLatency.push(now - sent);
  }
}

/** One client that watches the box move: which moves it saw. */
export class MoveObserver {
  private readonly seen: Uint8Array;
  seenCount = 0;

  constructor(
    readonly room: RoomTimes,
    private readonly recorder: Recorder,
  ) {
    this.seen = new Uint8Array(room.moveSent.length);
  }

  see(seq: number, now: number): void {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.seen.length) {
      this.recorder.anomalies++;
      return;
    }
    if (this.seen[seq] === 1) {
      this.recorder.anomalies++;
      return;
    }
    this.seen[seq] = 1;
    this.seenCount++;
    this.recorder.move(this.room, seq, now);
  }

  /** Whether this observer saw move `seq`. */
  hasSeen(seq: number): boolean {
    return this.seen[seq] === 1;
  }

  /** Moves sent in this room that this observer never saw. */
  get missing(): number {
    return this.room.movesSent - this.seenCount;
  }
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** Send-time windows, and how many late samples one must hold to count as a stall. */
export const STALL_WINDOW_MS = 5;
export const STALL_MIN_SAMPLES = 10;
/** A move this late (at its slowest observer) is part of an episode... */
export const EPISODE_LATE_MS = 1.5;
/** ...which goes on while late moves follow each other within this gap. */
const EPISODE_GAP_MS = 3;

export interface TailShape {
  /** Share of the samples at or above p99 sent in a window holding at least STALL_MIN_SAMPLES of them. */
  readonly stallShare: number;
  /** Episodes of moves over EPISODE_LATE_MS per measured second. */
  readonly episodesPerSecond: number;
}

/**
 * Whether a target's tail is made of stalls (many moves late together: a pause of the target
 * or of the load generator) or of lone slow moves, and how often moves run late.
 */
export function tailShape(
  sentAt: readonly number[],
  latency: readonly number[],
  /** The p99 of `latency`, already computed by the caller. */
  p99: number,
  seconds: number,
): TailShape {
  const lateIn = new Map<number, number>();
  let late = 0;
  /** Slowest observation per move; a move is told by its send time, each read just before it left. */
  const slowest = new Map<number, number>();
  for (const [i, l] of latency.entries()) {
    const sent = sentAt[i]!;
    slowest.set(sent, Math.max(slowest.get(sent) ?? 0, l));
    if (l < p99) continue;
    late++;
    const window = Math.floor(sent / STALL_WINDOW_MS);
    lateIn.set(window, (lateIn.get(window) ?? 0) + 1);
  }
  let inStalls = 0;
  for (const count of lateIn.values()) if (count >= STALL_MIN_SAMPLES) inStalls += count;
  let episodes = 0;
  let lastLate = Number.NEGATIVE_INFINITY;
  for (const sent of [...slowest.keys()].sort((a, b) => a - b)) {
    if (slowest.get(sent)! <= EPISODE_LATE_MS) continue;
    if (sent - lastLate >= EPISODE_GAP_MS) episodes++;
    lastLate = sent;
  }
  return {
    stallShare: late === 0 ? 0 : inStalls / late,
    episodesPerSecond: episodes / Math.max(seconds, 1e-9),
  };
}
