/**
 * Summarises a V8 .cpuprofile (from `collab-load.ts --profile`, which runs the server with
 * `node --cpu-prof`): self time by file/package and by function, and inclusive time by function.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [--top 30]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
const top = Number(values.top);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample node: each sample lasts until the next one.
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(url.lastIndexOf('/', src - 1) + 1);
  return url.replace(/^file:\/\//, '');
}

function fnKey(n: ProfileNode): string {
  const f = n.callFrame;
  const where = f.url
    ? `${shortUrl(f.url)}${f.url.includes('node_modules') ? '' : `:${f.lineNumber + 1}`}`
    : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
}

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusiveByFn = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const key = fnKey(node);
  selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
  const fileKey = node.callFrame.url ? shortUrl(node.callFrame.url) : node.callFrame.functionName;
  selfByFile.set(fileKey, (selfByFile.get(fileKey) ?? 0) + us);
  // Inclusive: every distinct function on the stack gets the sample once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = fnKey(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusiveByFn.set(k, (inclusiveByFn.get(k) ?? 0) + us);
  }
}

function print(title: string, map: Map<string, number>, n: number): void {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(
      `${((100 * us) / totalUs).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
  }
}

console.log(`profile: ${(totalUs / 1e6).toFixed(1)} s sampled`);
print('self time by file or package', selfByFile, top);
print('self time by function', selfByFn, top);
print('inclusive time by function', inclusiveByFn, top);
