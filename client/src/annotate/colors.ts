/**
 * Author colours: stable per user id, distinguishable on a grey radiograph, and never pure red
 * or green alone (the commonest colour-vision deficiencies).
 */
const PALETTE = [
  '#4cc9f0',
  '#f4a261',
  '#b5e48c',
  '#e07be0',
  '#ffd166',
  '#80ffdb',
  '#ff8fa3',
  '#a0c4ff',
] as const;

export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function colorFor(userId: string): string {
  return PALETTE[hashString(userId) % PALETTE.length] ?? PALETTE[0];
}
