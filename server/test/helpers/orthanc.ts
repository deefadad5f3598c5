import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './test-server.js';
import { tempDir } from './temp-root.js';

const ORTHANC = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/**
 * A real Orthanc PACS with its DICOMweb plugin (Debian's `orthanc`, `orthanc-dicomweb`; `.ci/run`
 * installs them) as a plain process: its own storage folder, HTTP on a free loopback port, no
 * DICOM port. Stopped and started again it keeps its storage, like a PACS that went down.
 */
export class OrthancProcess {
  private child: ChildProcess | undefined;
  readonly dir: string;
  private output = '';
  port = 0;
  /**
   * Settings merged over the defaults at the next start (e.g. `LuaScripts` to make it refuse,
   * `MaximumPatientCount`); change it between a stop and a start to reconfigure the PACS.
   */
  extraConfig: Record<string, unknown> = {};

  constructor(readonly name: string) {
    if (!fs.existsSync(ORTHANC) || !fs.existsSync(DICOMWEB_PLUGIN)) {
      throw new Error(
        'Orthanc with its DICOMweb plugin is not installed: apt-get install orthanc orthanc-dicomweb',
      );
    }
    this.dir = tempDir(`orthanc-${name}-`);
  }

  /** The DICOMweb root, without a trailing slash (as PACS_URL takes it). */
  get dicomWebUrl(): string {
    return `http://127.0.0.1:${this.port}/dicom-web`;
  }

  /** The running process's pid (benchmarks read its CPU time from /proc). */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('Orthanc is not running');
    return pid;
  }

  /** Orthanc's own REST API root. */
  get restUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const config = {
      Name: this.name,
      StorageDirectory: path.join(this.dir, 'storage'),
      IndexDirectory: path.join(this.dir, 'storage'),
      HttpPort: this.port,
      HttpBindAddress: '127.0.0.1',
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomServerEnabled: false,
      // Compression costs both ends CPU on loopback, and DICOM pixels hardly compress.
      HttpCompressionEnabled: false,
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/' },
      ...this.extraConfig,
    };
    const file = path.join(this.dir, 'orthanc.json');
    fs.writeFileSync(file, JSON.stringify(config));
    this.output = '';
    const child = spawn(ORTHANC, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => this.keep(d));
    child.stderr?.on('data', (d: Buffer) => this.keep(d));
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited: ${this.output}`);
      try {
        const res = await fetch(`${this.restUrl}/system`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > 20_000) throw new Error(`Orthanc did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the process (SIGKILL: the archive vanishes mid-request, as a crashed PACS does). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** SIGSTOP: the process holds its connections and answers nothing, as a hung PACS does; `thaw` resumes it. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stores Part 10 files through Orthanc's own REST API (`POST /instances`), as a hospital's modality would. */
  async upload(bytes: Uint8Array): Promise<{ ID: string; ParentStudy: string }> {
    const res = await fetch(`${this.restUrl}/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/dicom' },
      body: new Blob([bytes]),
    });
    if (!res.ok) throw new Error(`Orthanc POST /instances: ${res.status} ${await res.text()}`);
    return (await res.json()) as { ID: string; ParentStudy: string };
  }

  /** GET on Orthanc's REST API, as JSON. */
  async rest(pathname: string): Promise<unknown> {
    const res = await fetch(this.restUrl + pathname);
    if (!res.ok) throw new Error(`Orthanc GET ${pathname}: ${res.status}`);
    return res.json();
  }

  /** The raw bytes Orthanc holds for one of its instances (by Orthanc id). */
  async fileOf(orthancId: string): Promise<Uint8Array> {
    const res = await fetch(`${this.restUrl}/instances/${orthancId}/file`);
    if (!res.ok) throw new Error(`Orthanc GET file: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  private keep(d: Buffer): void {
    // Only the tail matters when a start fails.
    this.output = (this.output + d.toString()).slice(-8000);
  }
}
