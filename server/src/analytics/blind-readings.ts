import { type BlindReadingFact, readFindings, readGlobals } from '@cxr/shared';
import * as Y from 'yjs';
import { readingRoom } from '../collab/blind-stage.js';
import type { DocStore } from '../db/doc-store.js';

/**
 * A reader's stage-1 reading read straight from the database (snapshot plus log), without
 * loading a room: after the reveal private documents take no more edits, so what is stored
 * is the reading, and the CLI (no rooms at all) gets the same figures as the server.
 */
export async function loadBlindReading(
  docs: DocStore,
  sessionId: string,
  scanId: string,
  readerId: string,
): Promise<BlindReadingFact> {
  const loaded = await docs.load(readingRoom(sessionId, scanId, readerId));
  const doc = new Y.Doc();
  try {
    if (loaded.snapshot) Y.applyUpdate(doc, loaded.snapshot);
    for (const update of loaded.updates) Y.applyUpdate(doc, update);
    return {
      readerId,
      findings: readFindings(doc).map((f) => ({ id: f.id, labels: f.labels, box: f.box })),
      globals: readGlobals(doc).map((g) => g.label),
    };
  } finally {
    doc.destroy();
  }
}
