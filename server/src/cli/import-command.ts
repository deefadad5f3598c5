import fs from 'node:fs';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import { openStores } from '../db/stores.js';
import type { ImportRejection } from '../dicom/import-service.js';
import { DEFAULT_IMPORT_CONCURRENCY, importMany } from '../dicom/import-many.js';
import { dicomServicesFor } from '../dicom/services.js';
import { PacsImportUsageError, formatPacsImport, runPacsImport } from './pacs-import-command.js';

export interface ImportSummary {
  imported: string[];
  duplicates: string[];
  rejected: Array<{
    file: string;
    code: ImportRejection['code'] | 'unreadable';
    status?: number;
    message: string;
  }>;
}

/**
 * `cxr import <files or folders...>`: imports through the same service as `POST /api/scans`
 * (same checks, de-identification, storage and UID key), so a CLI import and an upload of the
 * same file are one scan. Exits 1 when any file was rejected.
 */
export function registerImportCommand(program: Command, loadConfig: () => Config): void {
  program
    .command('import')
    .description(
      'import DICOM files (folders are walked), or whole studies from the PACS with --pacs; prints imported, duplicates and rejected',
    )
    .argument('[paths...]', 'files or folders (not with --pacs)')
    .option('--json', 'print the summary as JSON')
    .option(
      '--concurrency <n>',
      `files imported at once (default ${DEFAULT_IMPORT_CONCURRENCY}: two per core, at most 8)`,
      parsePositiveInt,
    )
    .option('--pacs', 'import from the PACS at PACS_URL (QIDO-RS, WADO-RS) instead of files')
    .option('--study <uids...>', 'with --pacs: the Study Instance UIDs to import')
    .option('--session <id>', 'with --pacs: add the imported scans to this session')
    .action(
      async (
        paths: string[],
        opts: { json?: boolean; concurrency?: number; pacs?: boolean; study?: string[]; session?: string },
      ) => {
        const config = loadConfig();
        if (opts.pacs) {
          if (paths.length > 0) return usage('--pacs imports studies, not files: drop the paths');
          try {
            const view = await runPacsImport(config, opts.study ?? [], { sessionId: opts.session });
            console.log(opts.json ? JSON.stringify(view, null, 2) : formatPacsImport(view));
            if (view.failed > 0) process.exitCode = 1;
          } catch (error) {
            if (error instanceof PacsImportUsageError) return usage(error.message);
            throw error;
          }
          return;
        }
        if (opts.study || opts.session) return usage('--study and --session go with --pacs');
        if (paths.length === 0) return usage('name files or folders to import, or use --pacs');
        const summary = await runImport(config, paths, { concurrency: opts.concurrency });
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
        if (summary.rejected.length > 0) process.exitCode = 1;
      },
    );
}

function usage(message: string): void {
  console.error(`cxr import: ${message}`);
  process.exitCode = 2;
}

export async function runImport(
  config: Config,
  paths: string[],
  options: { concurrency?: number } = {},
): Promise<ImportSummary> {
  const files: string[] = [];
  const summary: ImportSummary = { imported: [], duplicates: [], rejected: [] };
  for (const p of paths) {
    try {
      files.push(...(await walk(path.resolve(p))));
    } catch (error) {
      summary.rejected.push({ file: p, code: 'unreadable', message: errorText(error) });
    }
  }
  const stores = await openStores({
    databaseUrl: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
    ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
  });
  const { importer } = dicomServicesFor(config, stores);
  // The bar draws only on a terminal; piped output gets the summary alone.
  const bar = new SingleBar({
    format: '{bar} {value}/{total} files | {imported} imported, {duplicates} duplicates, {rejected} rejected',
    stream: process.stderr,
    hideCursor: true,
  });
  const counts = { imported: 0, duplicates: 0, rejected: summary.rejected.length };
  bar.start(files.length, 0, counts);
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  try {
    // The bar moves as files finish; the summary lists them in walk order.
    const outcomes = await importMany(importer, files, {
      concurrency: options.concurrency,
      onEach: (_file, outcome) => {
        if (!outcome.ok || !outcome.result.ok) counts.rejected++;
        else if (outcome.result.value.duplicate) counts.duplicates++;
        else counts.imported++;
        bar.increment(1, counts);
      },
    });
    for (const [i, outcome] of outcomes.entries()) {
      const file = shown(files[i]!);
      // CLI imports have no user: `imported_by` stays empty.
      if (!outcome.ok) summary.rejected.push({ file, code: 'unreadable', message: errorText(outcome.error) });
      else if (!outcome.result.ok) summary.rejected.push({ file, ...outcome.result.error });
      else if (outcome.result.value.duplicate) summary.duplicates.push(file);
      else summary.imported.push(file);
    }
  } finally {
    bar.stop();
    await stores.db.close();
  }
  return summary;
}

export function formatSummary(s: ImportSummary): string {
  const lines = [
    `imported: ${s.imported.length}`,
    `duplicates: ${s.duplicates.length}`,
    `rejected: ${s.rejected.length}`,
  ];
  for (const r of s.rejected) lines.push(`  ${r.file}: ${r.code}: ${r.message}`);
  return lines.join('\n');
}

/** Every regular file under `p` in name order, skipping hidden entries (.DS_Store, .git). */
async function walk(p: string): Promise<string[]> {
  const stat = await fs.promises.stat(p);
  if (!stat.isDirectory()) return [p];
  const entries = await fs.promises.readdir(p, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const child = path.join(p, e.name);
    if (e.isDirectory()) out.push(...(await walk(child)));
    else if (e.isFile()) out.push(child);
  }
  return out;
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
