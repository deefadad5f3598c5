import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { hashPassword } from './auth/passwords.js';
import type { Stores } from './db/stores.js';
import type { DicomImporter } from './dicom/import-service.js';
import { makeSyntheticChestDicom, type SyntheticChestOptions } from './dicom/synthetic.js';
import { RLE_LOSSLESS } from './dicom/transfer-syntax.js';

export interface DemoLogin {
  readonly username: string;
  readonly password: string;
  readonly role: string;
}

export const DEMO_SESSION_NAME = 'Demo consensus panel';
export const DEMO_BLIND_SESSION_NAME = 'Demo blind reading, then consensus';

const DEMO_USERS = [
  { username: 'admin', password: 'admin-demo-1', role: 'admin' },
  { username: 'moderator', password: 'moderator-demo-1', role: 'moderator' },
  { username: 'reader1', password: 'reader-demo-1', role: 'reader' },
  { username: 'reader2', password: 'reader-demo-2', role: 'reader' },
  { username: 'reader3', password: 'reader-demo-3', role: 'reader' },
] as const;

/**
 * Synthetic chest films of real size (3000 x 2800, 12 of 16 bits): one MONOCHROME2, one
 * MONOCHROME1, one RLE compressed. They carry no SOP Instance UID, as VinDr-CXR's released files
 * do, so each scan's id is its file name's stem.
 */
const DEMO_FILES: Array<{ id: string; label: string; options: SyntheticChestOptions }> = [
  { id: 'demo-cxr-001', label: 'MONOCHROME2', options: { seed: 1, photometric: 'MONOCHROME2' } },
  { id: 'demo-cxr-002', label: 'MONOCHROME1', options: { seed: 2, photometric: 'MONOCHROME1' } },
  {
    id: 'demo-cxr-003',
    label: 'MONOCHROME2, RLE',
    options: { seed: 3, photometric: 'MONOCHROME2', transferSyntax: RLE_LOSSLESS },
  },
];

export interface DemoOptions {
  readonly dataDir: string;
  readonly importer: DicomImporter;
  /** Progress lines for the person waiting (generation takes a few seconds the first time). */
  readonly say?: (line: string) => void;
  /** Smaller images for tests; default 3000 x 2800. */
  readonly size?: { rows: number; columns: number };
}

/**
 * Seeds demo users, DICOM scans and one session for `npm start`; does nothing that exists
 * already, so a restart keeps everything drawn meanwhile. The synthetic files are generated
 * once into `<dataDir>/demo-dicom` and imported through the same service as uploads.
 */
export async function seedDemo(stores: Stores, log: Logger, options: DemoOptions): Promise<DemoLogin[]> {
  const ids = new Map<string, string>();
  for (const demo of DEMO_USERS) {
    const existing = await stores.users.byUsername(demo.username);
    if (existing) {
      ids.set(demo.username, existing.id);
      continue;
    }
    const user = await stores.users.create({
      username: demo.username,
      role: demo.role,
      passwordHash: await hashPassword(demo.password),
    });
    ids.set(demo.username, user.id);
  }
  const scanIds = await importDemoFiles(options, log);
  const moderatorId = ids.get('moderator');
  const moderatorSessions = moderatorId ? await stores.sessions.listIds(moderatorId, false) : [];
  if (moderatorId && moderatorSessions.length === 0) {
    const readerIds = ['reader1', 'reader2', 'reader3']
      .map((u) => ids.get(u))
      .filter((id): id is string => !!id);
    const panel = { moderatorId, readerIds, scanIds, fusionIouThreshold: 0.4 };
    await stores.sessions.create({ ...panel, name: DEMO_SESSION_NAME, mode: 'live' }, moderatorId);
    // A second session shows the two-stage workflow: blind readings first, then the reveal.
    await stores.sessions.create({ ...panel, name: DEMO_BLIND_SESSION_NAME, mode: 'blind' }, moderatorId);
    log.info('demo session created');
  }
  return DEMO_USERS.map((u) => ({ ...u }));
}

/** Generates missing demo files, imports all of them (duplicates are free); returns scan ids. */
async function importDemoFiles(options: DemoOptions, log: Logger): Promise<string[]> {
  const say = options.say ?? ((line: string) => log.info(line));
  const dir = path.join(options.dataDir, 'demo-dicom');
  await fs.promises.mkdir(dir, { recursive: true });
  const scanIds: string[] = [];
  for (const [i, demo] of DEMO_FILES.entries()) {
    const file = path.join(dir, `${demo.id}.dcm`);
    if (!fs.existsSync(file)) {
      const size = options.size ?? { rows: 3000, columns: 2800 };
      say(
        `generating demo DICOM ${i + 1}/${DEMO_FILES.length}: ${demo.id} (${size.rows} x ${size.columns}, ${demo.label})`,
      );
      const bytes = makeSyntheticChestDicom({
        ...demo.options,
        ...size,
        bitsStored: 12,
        sopInstanceUid: null,
      });
      // Written under a temp name first: a killed generation must not leave half a file cached.
      await fs.promises.writeFile(`${file}.tmp`, bytes);
      await fs.promises.rename(`${file}.tmp`, file);
    }
    const result = await options.importer.importFile(file, null);
    if (result.ok) {
      scanIds.push(result.value.id);
    } else {
      // A data directory from before DICOM import may hold a size-only scan of that id.
      log.warn(
        { scanId: demo.id, code: result.error.code },
        `demo scan not imported: ${result.error.message}`,
      );
    }
  }
  return scanIds;
}
