import { createContext, useContext } from 'react';

/**
 * Member colours: distinguishable on a grey radiograph, never pure red or green alone (the
 * commonest colour-vision deficiencies), and ordered so that the first six (a moderator and
 * five readers) are the most different from each other.
 */
export const PALETTE = [
  '#4cc9f0',
  '#f4a261',
  '#e07be0',
  '#ffd166',
  '#b5e48c',
  '#ff8fa3',
  '#a0c4ff',
  '#80ffdb',
] as const;

/** Boxes whose author is not a member (fused proposals, a removed member). */
export const OTHER_COLOR = '#c8c8c8';

export type ColorOf = (userId: string) => string;

/**
 * Colours assigned per session, in panel order (moderator, then readers as listed, then
 * anyone else on the session), so up to eight members never share one. Every client computes
 * the same assignment from the same session, so a reader's colour is the same on every screen.
 * A hash of the id would put two of six people on one colour about half the time.
 */
export function sessionColors(panelOrder: readonly string[]): ColorOf {
  const assigned = new Map<string, string>();
  for (const id of panelOrder) {
    if (assigned.has(id)) continue;
    assigned.set(id, PALETTE[assigned.size % PALETTE.length] ?? OTHER_COLOR);
  }
  return (userId) => assigned.get(userId) ?? OTHER_COLOR;
}

/** The session's panel order: moderator first, then the readers, then other members. */
export function panelOrder(session: {
  moderatorId: string;
  readerIds: readonly string[];
  members: readonly { id: string }[];
}): string[] {
  return [...new Set([session.moderatorId, ...session.readerIds, ...session.members.map((m) => m.id)])];
}

export const ColorsContext = createContext<ColorOf>(() => OTHER_COLOR);

/** The open session's colour of a member. */
export function useColorOf(): ColorOf {
  return useContext(ColorsContext);
}
