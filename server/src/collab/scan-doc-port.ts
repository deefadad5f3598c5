import {
  DOC_ROOTS,
  type Decision,
  FindingSchema,
  GlobalProposalSchema,
  type Result,
  type Target,
  decisionKey,
  err,
  ok,
} from '@cxr/shared';
import type { RoomKey } from '../db/doc-store.js';
import { type LockOptions, type LockService, undecidedTargets } from './lock.js';
import type { DocChange } from './room.js';
import type { RoomRegistry } from './room-registry.js';

export type PortError = { code: 'not_found' | 'unavailable' | 'locked'; message: string };

/**
 * What the live panel (votes, decisions, lock) may do with scan documents. The realtime
 * module depends on this interface only; main.ts hands it this implementation.
 */
export interface ScanDocPort {
  /**
   * The version of a vote's target: a finding's labels and box, or whether a global label is
   * proposed. Undefined when the target is absent (a removed finding).
   */
  targetVersion(key: RoomKey, target: Target): Promise<Result<string | undefined, PortError>>;
  /** Writes a decision into the document's server-only `decisions` map; stored, then broadcast. */
  writeDecision(key: RoomKey, decision: Decision): Promise<Result<true, PortError>>;
  undecided(key: RoomKey): Promise<Result<Target[], PortError>>;
  readonly locks: LockService;
  /** Changes to findings and global labels, after they are stored and broadcast. */
  onChange(listener: (key: RoomKey, change: DocChange) => void): void;
}

/** A stable text for a target's current state; any change to box or labels changes it. */
export function versionOf(value: unknown, target: Target): string | undefined {
  if (target.kind === 'finding') {
    const parsed = FindingSchema.safeParse(value);
    if (!parsed.success) return undefined;
    const { labels, box } = parsed.data;
    return JSON.stringify({ labels: [...labels].sort(), box: [box.x_min, box.y_min, box.x_max, box.y_max] });
  }
  return GlobalProposalSchema.safeParse(value).success ? 'proposed' : undefined;
}

export function createScanDocPort(
  registry: RoomRegistry,
  locks: LockService,
  listeners: Array<(key: RoomKey, change: DocChange) => void>,
): ScanDocPort {
  const withRoom = async <T>(key: RoomKey, run: (room: import('./room.js').Room) => Promise<T>) => {
    const acquired = await registry.acquire(key);
    if (!acquired.ok) {
      return err<PortError>({
        code: acquired.close === 'NOT_FOUND' ? 'not_found' : 'unavailable',
        message: acquired.detail,
      });
    }
    try {
      return ok(await run(acquired.room));
    } finally {
      registry.release(acquired.room);
    }
  };

  return {
    targetVersion: (key, target) =>
      withRoom(key, async (room) => {
        const map = room.doc.getMap(target.kind === 'finding' ? DOC_ROOTS.findings : DOC_ROOTS.globals);
        return versionOf(map.get(target.kind === 'finding' ? target.id : target.label), target);
      }),
    async writeDecision(key, decision) {
      const result = await withRoom(key, async (room) => {
        if (room.locked) return false;
        await room.applyServerChange((doc) =>
          doc.getMap(DOC_ROOTS.decisions).set(decisionKey(decision.target), decision),
        );
        return true;
      });
      if (!result.ok) return result;
      return result.value ? ok(true) : err({ code: 'locked', message: 'the scan is locked' });
    },
    undecided: (key) => withRoom(key, async (room) => undecidedTargets(room.doc)),
    locks,
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

export type { LockOptions };
