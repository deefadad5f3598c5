import {
  DOC_ROOTS,
  type Finding,
  type GlobalReading,
  type Reading,
  type Result,
  type Session,
  err,
  findDisputes,
  globalLabelAgreement,
  ok,
  panelBoxF1,
  readFindings,
  readGlobals,
  readProgress,
  scanDocTypes,
  checkFindingEntry,
  checkReadingRules,
  type Box,
  type GlobalLabel,
  type LocalLabel,
  tallyGlobalLabels,
  weightedBoxesFusion,
} from '@cxr/shared';
import type { RoomKey } from '../db/doc-store.js';
import type { SessionsStore } from '../db/sessions-store.js';
import type { Room } from './room.js';
import type { RoomRegistry } from './room-registry.js';

/** A reader's private document for one scan during the blind stage. */
export function readingRoom(sessionId: string, scanId: string, readerId: string): RoomKey {
  return { sessionId, scanId: `${scanId}${READING_MARK}${readerId}` };
}

const READING_MARK = ':reading:';

/** Splits a private room's scan id back into the scan and its reader, if it is one. */
export function parseReadingScanId(scanId: string): { scanId: string; readerId: string } | undefined {
  const at = scanId.indexOf(READING_MARK);
  if (at < 0) return undefined;
  return { scanId: scanId.slice(0, at), readerId: scanId.slice(at + READING_MARK.length) };
}

export type BlindError = {
  code: 'not_found' | 'conflict' | 'unavailable' | 'validation_failed';
  message: string;
  details?: string[];
};

/** One imported reading, already mapped to a reader of the session. */
export interface ImportedReading {
  readonly imageId: string;
  readonly radId: string;
  readonly readerId: string;
  readonly findings: ReadonlyArray<{ readonly labels: readonly LocalLabel[]; readonly box: Box }>;
  readonly globals: readonly GlobalLabel[];
}

export interface ReaderReading {
  readonly readerId: string;
  readonly findings: Finding[];
  readonly globals: GlobalReading['labels'];
  readonly done: boolean;
}

/**
 * The blind first stage: readers read alone in private documents; the moderator sees only who
 * is done; the reveal freezes the readings and fuses them into proposals in the shared document
 * (reader-aware WBF, per-reader tallies of the global labels).
 */
export function createBlindStage(
  registry: RoomRegistry,
  sessions: SessionsStore,
  /** Told each scan's reveal time and proposal ids (the reading analytics, R-ANALYTICS-6). */
  onRevealed?: (sessionId: string, scanId: string, at: number, proposalIds: string[]) => Promise<void>,
) {
  const withRoom = async <T>(key: RoomKey, run: (room: Room) => T | Promise<T>): Promise<T> => {
    const acquired = await registry.acquire(key);
    if (!acquired.ok) throw new Error(`${acquired.close}: ${acquired.detail}`);
    try {
      return await run(acquired.room);
    } finally {
      registry.release(acquired.room);
    }
  };

  const readingsOf = async (session: Session, scanId: string): Promise<ReaderReading[]> => {
    const out: ReaderReading[] = [];
    for (const readerId of session.readerIds) {
      out.push(
        await withRoom(readingRoom(session.id, scanId, readerId), (room) => ({
          readerId,
          findings: readFindings(room.doc),
          globals: readGlobals(room.doc).map((g) => g.label),
          done: readProgress(room.doc).some((p) => p.userId === readerId && p.done),
        })),
      );
    }
    return out;
  };

  return {
    readingsOf,

    /** Done / not done per reader and scan: all the moderator sees during the blind stage. */
    async progress(session: Session) {
      const scans = [];
      for (const scan of session.scans) {
        const readings = await readingsOf(session, scan.scanId);
        scans.push({
          scanId: scan.scanId,
          readers: readings.map((r) => ({ userId: r.readerId, done: r.done })),
        });
      }
      return scans;
    },

    /**
     * Ends the blind stage (once: the stage flips in the database first, so the private
     * documents refuse edits from then on) and writes fused proposals and global tallies into
     * each scan's shared document.
     */
    async reveal(session: Session, moderatorId: string): Promise<Result<{ proposals: number }, BlindError>> {
      if (session.mode !== 'blind')
        return err({ code: 'conflict', message: 'this session has no blind stage' });
      if (!(await sessions.reveal(session.id))) {
        return err({ code: 'conflict', message: 'the readings were already revealed' });
      }
      for (const room of registry.all()) {
        if (room.key.sessionId === session.id && parseReadingScanId(room.key.scanId)) room.locked = true;
      }
      let proposals = 0;
      const now = Date.now();
      for (const scan of session.scans) {
        const readings = await readingsOf(session, scan.scanId);
        const fused = weightedBoxesFusion(toWbfReadings(readings), {
          iouThreshold: session.fusionIouThreshold,
          nReaders: Math.max(1, session.readerIds.length),
        });
        const tallies = tallyGlobalLabels(
          readings.map((r) => ({ readerId: r.readerId, labels: r.globals })),
          { nReaders: Math.max(1, session.readerIds.length) },
        );
        proposals += fused.length;
        await withRoom({ sessionId: session.id, scanId: scan.scanId }, (room) =>
          room.applyServerChange((doc) => {
            const findings = doc.getMap(DOC_ROOTS.findings);
            fused.forEach((p, i) => {
              const finding: Finding = {
                id: `fusion-${i + 1}`,
                labels: [p.label],
                box: { ...p.box },
                createdBy: moderatorId,
                updatedBy: moderatorId,
                updatedAt: now,
                fusion: {
                  share: p.share,
                  sources: p.sources.map((s) => ({ readerId: s.readerId, box: { ...s.box } })),
                },
              };
              findings.set(finding.id, finding);
            });
            const tallyMap = doc.getMap(DOC_ROOTS.tallies);
            for (const t of tallies) tallyMap.set(t.label, { ...t, readers: [...t.readers] });
          }),
        );
        await onRevealed?.(
          session.id,
          scan.scanId,
          now,
          fused.map((_, i) => `fusion-${i + 1}`),
        );
      }
      return ok({ proposals });
    },

    /**
     * Stage-1 readings from VinDr-CXR CSV files (train layout): each becomes the reader's private
     * document for that scan, marked done. All or nothing: every reading is checked (scan in the
     * session, boxes inside the image, VinDr rules) before anything is written.
     */
    async importReadings(
      session: Session,
      readings: readonly ImportedReading[],
    ): Promise<Result<{ readings: number; findings: number }, BlindError>> {
      if (session.mode !== 'blind' || session.stage !== 'blind') {
        return err({ code: 'conflict', message: 'readings can be imported only during a blind stage' });
      }
      const scans = new Map(session.scans.map((s) => [s.scanId, s]));
      const problems: string[] = [];
      const seen = new Set<string>();
      const now = Date.now();
      const prepared = readings.map((r, index) => {
        const scan = scans.get(r.imageId);
        const where = `image ${r.imageId}, reader ${r.radId}`;
        if (!scan) problems.push(`${where}: the image is not a scan of this session`);
        if (!session.readerIds.includes(r.readerId)) problems.push(`${where}: not a reader of this session`);
        if (seen.has(`${r.imageId}/${r.readerId}`)) problems.push(`${where}: read twice`);
        seen.add(`${r.imageId}/${r.readerId}`);
        const findings: Finding[] = r.findings.map((f, k) => ({
          id: `import-${index + 1}-${k + 1}`,
          labels: [...f.labels],
          box: { ...f.box },
          createdBy: r.readerId,
          updatedBy: r.readerId,
          updatedAt: now,
        }));
        if (scan) {
          const ctx = { userId: r.readerId, image: scan, panel: [r.readerId] };
          for (const f of findings) {
            const problem = checkFindingEntry(f.id, f, ctx);
            if (problem) problems.push(`${where}: ${problem}`);
          }
        }
        const globals = r.globals.map((label) => ({ label, proposedBy: r.readerId, updatedAt: now }));
        for (const rule of checkReadingRules(findings, globals)) problems.push(`${where}: ${rule}`);
        return { reading: r, findings, globals };
      });
      if (problems.length > 0) {
        return err({
          code: 'validation_failed',
          message: `${problems.length} problem(s) in the readings; nothing was imported`,
          details: problems.slice(0, 100),
        });
      }
      let findingCount = 0;
      for (const { reading, findings, globals } of prepared) {
        findingCount += findings.length;
        await withRoom(readingRoom(session.id, reading.imageId, reading.readerId), (room) =>
          room.applyServerChange((doc) => {
            const types = scanDocTypes(doc);
            types.findings.clear();
            types.globals.clear();
            for (const f of findings) types.findings.set(f.id, f);
            for (const g of globals) types.globals.set(g.label, g);
            types.progress.set(reading.readerId, { userId: reading.readerId, done: true, updatedAt: now });
            types.meta.set('radId', reading.radId);
          }),
        );
      }
      return ok({ readings: prepared.length, findings: findingCount });
    },

    /** Every reader's reading of every scan, with its `rad_id` (imported, else the username). */
    async readerReadings(session: Session, usernames: ReadonlyMap<string, string>) {
      const out: Array<{ imageId: string; radId: string; findings: Finding[]; globals: GlobalLabel[] }> = [];
      for (const scan of session.scans) {
        for (const readerId of session.readerIds) {
          out.push(
            await withRoom(readingRoom(session.id, scan.scanId, readerId), (room) => {
              const radId = scanDocTypes(room.doc).meta.get('radId');
              return {
                imageId: scan.scanId,
                radId: typeof radId === 'string' ? radId : (usernames.get(readerId) ?? readerId),
                findings: readFindings(room.doc),
                globals: readGlobals(room.doc).map((g) => g.label),
              };
            }),
          );
        }
      }
      return out;
    },

    /** The dispute queue of one scan: fused proposals below quorum or with conflicting labels. */
    async disputes(session: Session, scanId: string) {
      return withRoom({ sessionId: session.id, scanId }, (room) => {
        const proposals = readFindings(room.doc).filter((f) => f.fusion);
        const asFused = proposals.map((f) => ({
          label: f.labels[0]!,
          box: f.box,
          share: f.fusion!.share,
          confidence: f.fusion!.share,
          sources: f.fusion!.sources.map((s) => ({ ...s, score: 1 })),
        }));
        return findDisputes(asFused, { iouThreshold: session.fusionIouThreshold }).map((d) =>
          d.kind === 'below-quorum'
            ? { kind: d.kind, findingId: proposals[d.proposal]!.id, share: d.share }
            : { kind: d.kind, findingIds: d.proposals.map((i) => proposals[i]!.id), iou: d.iou },
        );
      });
    },

    /** Agreement of the blind readings: per scan and for the session. */
    async agreement(session: Session) {
      const perScan = [];
      const allGlobals: GlobalReading[][] = [];
      for (const scan of session.scans) {
        const readings = await readingsOf(session, scan.scanId);
        const globals = readings.map((r) => ({ readerId: r.readerId, labels: r.globals }));
        allGlobals.push(globals);
        perScan.push({
          scanId: scan.scanId,
          globals: globalLabelAgreement([globals]),
          boxes: panelBoxF1(toWbfReadings(readings)),
        });
      }
      return { perScan, session: { globals: globalLabelAgreement(allGlobals) } };
    },
  };
}

export type BlindStage = ReturnType<typeof createBlindStage>;

function toWbfReadings(readings: readonly ReaderReading[]): Reading[] {
  return readings.map((r) => ({
    readerId: r.readerId,
    boxes: r.findings.flatMap((f) => f.labels.map((label) => ({ label, box: f.box }))),
  }));
}
