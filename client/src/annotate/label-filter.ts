import { LOCAL_LABELS, type LocalLabel } from '@cxr/shared';

/**
 * Type-ahead for the label picker: labels starting with the query first, then labels with a
 * word starting with it, then any substring; initials also match ("po" -> Pleural effusion
 * would not, "pe" -> Pleural effusion does), so short queries reach every label quickly.
 */
export function filterLabels(query: string, labels: readonly LocalLabel[] = LOCAL_LABELS): LocalLabel[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...labels];
  const scored: { label: LocalLabel; score: number; index: number }[] = [];
  labels.forEach((label, index) => {
    const l = label.toLowerCase();
    const words = l.split(/[\s/]+/);
    const initials = words.map((w) => w[0] ?? '').join('');
    let score = -1;
    if (l.startsWith(q)) score = 0;
    else if (words.some((w) => w.startsWith(q))) score = 1;
    else if (initials.startsWith(q)) score = 2;
    else if (l.includes(q)) score = 3;
    if (score >= 0) scored.push({ label, score, index });
  });
  return scored.sort((a, b) => a.score - b.score || a.index - b.index).map((s) => s.label);
}
