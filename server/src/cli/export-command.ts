import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  cocoDataset,
  consensusAnnotationsCsv,
  consensusImageLabelsCsv,
  type ExportManifest,
} from '@cxr/shared';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { openStores } from '../db/stores.js';
import { dicomServicesFor } from '../dicom/services.js';
import { createExportService } from '../export/export-service.js';
import { runAnalyticsExport } from './analytics-export.js';

export const EXPORT_FORMATS = ['vindr', 'coco', 'sr'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportSummary {
  readonly manifest: ExportManifest;
  /** Locked scans whose SR could not be written (no DICOM file), with why. */
  readonly skipped: Array<{ scanId: string; reason: string }>;
}

/**
 * `cxr export --session <id> --out <dir> [--format vindr,coco,sr]` (R-EXPORT-10): the same
 * files as the HTTP routes, read straight from the database and data directory, plus
 * `manifest.json` listing every scan's status and every written file's SHA-256.
 */
export function registerExportCommand(program: Command, loadConfig: () => Config): void {
  program
    .command('export')
    .description('export the locked consensus of a session (VinDr CSV, COCO, DICOM SR) with a manifest')
    .requiredOption('--session <id>', 'session id')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--format <list>', `comma-separated: ${EXPORT_FORMATS.join(',')}`, EXPORT_FORMATS.join(','))
    .option('--analytics', 'write the reading analytics (analytics.csv, analytics.json) instead')
    .action(async (opts: { session: string; out: string; format: string; analytics?: boolean }) => {
      if (opts.analytics) {
        const done = await runAnalyticsExport(loadConfig(), { sessionId: opts.session, outDir: opts.out });
        if (!done.ok) {
          console.error(`cannot export: ${done.error}`);
          process.exitCode = 1;
          return;
        }
        console.log(
          `exported the analytics of ${done.value.rows} reader x scan row(s) to ${opts.out}: ${done.value.files.join(', ')}`,
        );
        return;
      }
      const formats = parseFormats(opts.format);
      if (typeof formats === 'string') {
        console.error(formats);
        process.exitCode = 2;
        return;
      }
      const result = await runExport(loadConfig(), { sessionId: opts.session, outDir: opts.out, formats });
      if (!result.ok) {
        console.error(`cannot export: ${result.error}`);
        process.exitCode = 1;
        return;
      }
      const { manifest, skipped } = result.value;
      const locked = manifest.scans.filter((s) => s.status === 'locked').length;
      console.log(
        `exported ${locked} locked scan(s) of ${manifest.scans.length} to ${opts.out}: ` +
          (manifest.files ?? []).map((f) => f.name).join(', '),
      );
      for (const s of skipped) console.error(`no SR for ${s.scanId}: ${s.reason}`);
    });
}

/** Parses `vindr,coco` into formats, or says what is wrong. */
export function parseFormats(list: string): ExportFormat[] | string {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(EXPORT_FORMATS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    return `unknown format ${unknown.join(', ') || '(none)'}; use ${EXPORT_FORMATS.join(', ')}`;
  }
  return EXPORT_FORMATS.filter((f) => names.includes(f));
}

export async function runExport(
  config: Config,
  options: { sessionId: string; outDir: string; formats: readonly ExportFormat[] },
): Promise<{ ok: true; value: ExportSummary } | { ok: false; error: string }> {
  const stores = await openStores({
    databaseUrl: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
    ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
  });
  try {
    const service = createExportService({
      sessions: stores.sessions,
      consensus: stores.consensus,
      scanFiles: stores.scanFiles,
      blobs: dicomServicesFor(config, stores).images,
      users: stores.users,
    });
    const set = await service.exportSet(options.sessionId);
    if (!set.ok) return { ok: false, error: set.error.message };
    const { images, lockedAtMs, manifest } = set.value;
    fs.mkdirSync(options.outDir, { recursive: true });
    const files: NonNullable<ExportManifest['files']> = [];
    const write = (name: string, data: string | Uint8Array, scanId?: string) => {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      fs.mkdirSync(path.dirname(path.join(options.outDir, name)), { recursive: true });
      fs.writeFileSync(path.join(options.outDir, name), bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      files.push({ name, sha256, bytes: bytes.length, ...(scanId ? { scanId } : {}) });
    };
    if (options.formats.includes('vindr')) {
      write('annotations_test.csv', consensusAnnotationsCsv(images));
      write('image_labels_test.csv', consensusImageLabelsCsv(images));
    }
    if (options.formats.includes('coco')) {
      write('coco.json', JSON.stringify(cocoDataset(options.sessionId, images, lockedAtMs), null, 2));
    }
    const skipped: ExportSummary['skipped'] = [];
    if (options.formats.includes('sr')) {
      for (const image of images) {
        const sr = await service.sr(options.sessionId, image.imageId);
        if (sr.ok) write(`sr/${image.imageId}.sr.dcm`, sr.value.bytes, image.imageId);
        else skipped.push({ scanId: image.imageId, reason: sr.error.message });
      }
    }
    const full: ExportManifest = { ...manifest, files };
    fs.writeFileSync(path.join(options.outDir, 'manifest.json'), `${JSON.stringify(full, null, 2)}\n`);
    return { ok: true, value: { manifest: full, skipped } };
  } finally {
    await stores.db.close();
  }
}
