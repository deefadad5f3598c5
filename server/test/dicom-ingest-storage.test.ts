import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_BACKENDS } from './helpers/storage-backends.js';
import type { NewScanFile } from '../src/db/scan-files-store.js';
import type { Stores } from '../src/db/stores.js';
import { makeSyntheticChestDicom } from '../src/dicom/synthetic.js';
import { getBytes, uploadDicom } from './helpers/dicom-ingest.js';
import { ADMIN, Api, PG_URL, pgSchemaName, startTestServer } from './helpers/test-server.js';

/**
 * The scan_files contract (migration 0002_dicom), run against SQLite and PostgreSQL: rows round
 * trip with their JSON columns, content hashes are unique (idempotent imports), an id taken by
 * other content is refused, and a scan registered by size gets its file attached.
 */
const backends = STORAGE_BACKENDS;

const hex = (c: string) => c.repeat(64);

function file(scanId: string, storedChar: string, extra: Partial<NewScanFile> = {}): NewScanFile {
  return {
    scanId,
    rows: 3000,
    columns: 2800,
    sha256: hex(storedChar),
    bytes: 16_800_728,
    transferSyntaxUid: '1.2.840.10008.1.2.5',
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    photometric: 'MONOCHROME1',
    pixelSpacingMm: [0.139, 0.14],
    windows: [
      { center: 2047.5, width: 3685, explanation: 'NORMAL' },
      { center: 1000, width: 500 },
    ],
    lossy: false,
    deidProfile: 'basic',
    importedBy: null,
    ...extra,
  };
}

describe.each(backends)('scan_files contract: $name', ({ open }) => {
  let stores: Stores;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ stores, drop } = await open());
  });
  afterAll(async () => {
    await stores.db.close();
    await drop();
  });

  it('R-INGEST-STORE-1: a file round-trips with its scan, JSON columns parsed', async () => {
    const input = file('scan-a', '1');
    const out = await stores.scanFiles.insert(input);
    expect(out.kind).toBe('inserted');
    const got = await stores.scanFiles.get('scan-a');
    expect(got).toMatchObject({ ...input, importedAt: expect.any(String) });
    expect(await stores.scanFiles.bySha256(hex('1'))).toMatchObject({ scanId: 'scan-a' });
    expect(await stores.scans.get('scan-a')).toMatchObject({ rows: 3000, columns: 2800 });
    expect(await stores.scanFiles.referenced(hex('1'))).toBe(true);
    expect(await stores.scanFiles.referenced(hex('2'))).toBe(false);
    const nulls = file('scan-n', '9', { pixelSpacingMm: null, windows: [] });
    await stores.scanFiles.insert(nulls);
    expect(await stores.scanFiles.get('scan-n')).toMatchObject({ pixelSpacingMm: null, windows: [] });
  });

  it('R-INGEST-STORE-2: the same stored bytes twice are one row (same_content); another file on a taken id is refused', async () => {
    const before = await stores.scanFiles.count();
    const again = await stores.scanFiles.insert(file('scan-a2', '1'));
    expect(again).toMatchObject({ kind: 'same_content', file: { scanId: 'scan-a' } });
    const taken = await stores.scanFiles.insert(file('scan-a', '3'));
    expect(taken.kind).toBe('id_taken');
    expect(await stores.scanFiles.count()).toBe(before);
    expect(await stores.scans.get('scan-a2')).toBeUndefined();
  });

  it('R-INGEST-STORE-3: a scan registered by size gets the file when the sizes agree, not otherwise', async () => {
    await stores.scans.register({ id: 'sized', rows: 3000, columns: 2800, createdBy: null });
    await stores.scans.register({ id: 'other-size', rows: 10, columns: 10, createdBy: null });
    expect((await stores.scanFiles.insert(file('sized', '4'))).kind).toBe('inserted');
    expect((await stores.scanFiles.insert(file('other-size', '5'))).kind).toBe('id_taken');
    expect(await stores.scanFiles.get('other-size')).toBeUndefined();
  });

  it('R-INGEST-STORE-4: concurrent inserts of the same bytes leave exactly one row', async () => {
    const before = await stores.scanFiles.count();
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, i) => stores.scanFiles.insert(file(`race-${i}`, '6'))),
    );
    expect(outcomes.filter((o) => o.kind === 'inserted')).toHaveLength(1);
    expect(outcomes.every((o) => o.kind === 'inserted' || o.kind === 'same_content')).toBe(true);
    expect(await stores.scanFiles.count()).toBe(before + 1);
  });
});

describe('upload over HTTP with PostgreSQL', () => {
  it('imports, answers a duplicate, and serves the file back', async () => {
    const schema = pgSchemaName();
    const server = await startTestServer({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema });
    try {
      const admin = (await new Api(server.url).login(ADMIN.username, ADMIN.password)).token;
      const bytes = makeSyntheticChestDicom({ rows: 48, columns: 40, seed: 9 });
      const first = await uploadDicom(server, admin, bytes);
      expect(first.status).toBe(201);
      const again = await uploadDicom(server, admin, bytes);
      expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
      const got = await getBytes(server, `/api/scans/${first.body.id}/dicom`, admin);
      expect(got.headers.get('etag')).toBe(`"${first.body.sha256}"`);
    } finally {
      await server.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    }
  });
});
