/**
 * Import from a PACS: our pipeline (WADO-RS retrieve + validate + de-identify + hash + store)
 * against the peer's own ingest of the same bytes, in the same run.
 *
 *   npm run bench:pacs -- [--files 50] [--concurrency N]
 *
 * A real Orthanc with its DICOMweb plugin holds one identified study of `--files` full-size
 * chests (3000 x 2800, 16 bits allocated, native, ~16.8 MB each). Passes, in this order:
 *   1. peer: Orthanc's own `POST /instances` of the files (its CPU read from /proc);
 *   2. floor: `sha256sum` over the same files (its CPU from the shell's `times`);
 *   3. retrieve only: WADO-RS of every instance into memory (what the PACS side costs us);
 *   4. import: the PACS import job (QIDO-RS listing, WADO-RS, the file import service, the job's
 *      bookkeeping) into a fresh SQLite database and local image store.
 * Reported: instances/s, our CPU-seconds per GB and the ratios (goal: import CPU <= 2x
 * sha256sum's over the same bytes). Orthanc's own CPU during our retrieve is shown apart: it is
 * the PACS's cost, not ours.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import pino from 'pino';
import { openStores } from '../server/src/db/stores.js';
import { DEFAULT_IMPORT_CONCURRENCY } from '../server/src/dicom/import-many.js';
import { createDicomServices } from '../server/src/dicom/services.js';
import { makeSyntheticChestDicom } from '../server/src/dicom/synthetic.js';
import { DicomWebClient, type InstanceRef } from '../server/src/dicomweb/dicomweb-client.js';
import { startPacsImports } from '../server/src/pacs/import-jobs.js';
import { OrthancProcess } from '../server/test/helpers/orthanc.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: String(DEFAULT_IMPORT_CONCURRENCY) },
  },
});
const N = Number(values.files);
const CONCURRENCY = Number(values.concurrency);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-pacs-bench-'));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Base UIDs; each file's copy replaces them with others of the same length. */
const BASE_SOP = '2.25.800000000000';
const STUDY = '2.25.810000000001';
const SERIES = '2.25.820000000001';
const sopFor = (i: number) => `2.25.8${String(i + 1).padStart(11, '0')}`;

function withSop(base: Uint8Array, uid: string): Buffer {
  const out = Buffer.from(base);
  const from = Buffer.from(BASE_SOP, 'ascii');
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + from.length))
    out.write(uid, at, 'ascii');
  return out;
}

/** user + system CPU seconds of a process, from /proc (Orthanc is not our child's rusage). */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Row {
  readonly pass: string;
  readonly seconds: number;
  /** CPU of this process (all threads). */
  readonly cpu: number;
  /** CPU of Orthanc during the pass. */
  readonly orthancCpu: number;
}

async function timed(pass: string, orthancPid: number, run: () => Promise<void>): Promise<Row> {
  const c0 = ownCpu();
  const o0 = procCpuSeconds(orthancPid);
  const t0 = performance.now();
  await run();
  return {
    pass,
    seconds: (performance.now() - t0) / 1000,
    cpu: ownCpu() - c0,
    orthancCpu: procCpuSeconds(orthancPid) - o0,
  };
}

/** sha256sum's CPU over the files: the shell's `times` reports its children's. */
function sha256sumRow(files: string[]): Row {
  const t0 = performance.now();
  const out = execFileSync('bash', ['-c', 'sha256sum "$@" >/dev/null; times', 'bash', ...files]).toString();
  const seconds = (performance.now() - t0) / 1000;
  // `times` prints two lines: the shell's own, then its children's "XmY.YYYs XmZ.ZZZs".
  const children = out.trim().split('\n').at(-1) ?? '';
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (s, m) => s + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
  return { pass: 'sha256sum', seconds, cpu, orthancCpu: 0 };
}

async function main(): Promise<void> {
  const orthanc = new OrthancProcess('bench-pacs');
  await orthanc.start();
  try {
    const base = makeSyntheticChestDicom({
      sopInstanceUid: BASE_SOP,
      studyInstanceUid: STUDY,
      seriesInstanceUid: SERIES,
      patientName: 'BENCH^PATIENT',
      patientId: 'BENCH-0001',
    });
    const files: string[] = [];
    let bytes = 0;
    for (let i = 0; i < N; i++) {
      const file = path.join(root, `${i}.dcm`);
      const b = withSop(base, sopFor(i));
      fs.writeFileSync(file, b);
      files.push(file);
      bytes += b.length;
    }
    const gb = bytes / 1e9;
    const pid = orthanc.pid;
    console.log(
      `${N} instances, ${(bytes / 1e6).toFixed(0)} MB, concurrency ${CONCURRENCY}, Orthanc pid ${pid}`,
    );

    const rows: Row[] = [];
    rows.push(
      await timed('orthanc POST /instances', pid, async () => {
        await pMap(files, async (f) => orthanc.upload(await fs.promises.readFile(f)), {
          concurrency: CONCURRENCY,
        });
      }),
    );
    rows.push(sha256sumRow(files));

    const client = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: undefined }, { timeoutMs: 60_000 });
    const refs: InstanceRef[] = await client.searchInstances(STUDY);
    if (refs.length !== N) throw new Error(`QIDO-RS found ${refs.length} of ${N} instances`);

    let retrieved = 0;
    rows.push(
      await timed('retrieve only (WADO-RS)', pid, async () => {
        await pMap(
          refs,
          async (ref) => {
            const got = await client.retrieveInstance(ref);
            retrieved += got.byteLength;
          },
          { concurrency: CONCURRENCY },
        );
      }),
    );
    if (retrieved !== bytes) throw new Error(`retrieved ${retrieved} bytes of ${bytes}`);

    const dataDir = fs.mkdtempSync(path.join(root, 'data-'));
    const stores = await openStores({ sqliteFile: path.join(dataDir, 'cxr.sqlite') });
    const { importer } = createDicomServices({ dataDir, files: stores.scanFiles, profile: 'basic' });
    // The PACS import job itself (what POST /api/pacs/imports and `cxr import --pacs` run).
    const runner = startPacsImports({
      store: stores.pacsImports,
      origins: stores.pacsOrigins,
      sessions: stores.sessions,
      importer,
      pacs: client,
      log: pino({ level: 'warn' }),
      leaseMs: 120_000,
      retryMs: 1000,
      concurrency: CONCURRENCY,
      pollMs: 100,
    });
    try {
      rows.push(
        await timed('import job (retrieve + validate + de-identify + hash + store)', pid, async () => {
          const id = await runner.enqueue({ createdBy: null, sessionId: null, studyUids: [STUDY] });
          const job = await runner.settled(id);
          const items = await stores.pacsImports.items(id);
          const done = items.filter((i) => i.state === 'done').length;
          if (job.state !== 'done' || done !== N)
            throw new Error(`import job: ${job.state}, ${done} of ${N} imported`);
        }),
      );
    } finally {
      await runner.stop();
      await stores.db.close();
    }

    console.log('');
    console.log(
      'pass                                                      inst/s   MB/s  CPU s/GB  Orthanc CPU s/GB',
    );
    for (const r of rows) {
      console.log(
        `${r.pass.padEnd(56)} ${(N / r.seconds).toFixed(1).padStart(7)} ${(bytes / 1e6 / r.seconds).toFixed(0).padStart(6)} ${(r.cpu / gb).toFixed(2).padStart(9)} ${(r.orthancCpu / gb).toFixed(2).padStart(17)}`,
      );
    }
    const [peer, sha, retrieve, imp] = rows as [Row, Row, Row, Row];
    console.log('');
    console.log(`import instances/s vs Orthanc's own ingest: ${(peer.seconds / imp.seconds).toFixed(2)}x`);
    console.log(
      `import CPU vs sha256sum over the same bytes: ${(imp.cpu / sha.cpu).toFixed(2)}x (goal <= 2x)`,
    );
    console.log(
      `of the import's CPU: retrieve ${((retrieve.cpu / imp.cpu) * 100).toFixed(0)}%, the rest (validate, de-identify, hash, store) ${(((imp.cpu - retrieve.cpu) / imp.cpu) * 100).toFixed(0)}%`,
    );
  } finally {
    await orthanc.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  // Hash threads would keep the process alive.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
