import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-root.js';

/**
 * Test fixtures: our own synthetic files, converted by DCMTK (dcmconv, dcmcrle, dcmcjpeg,
 * dcmcjpls, dcmdump) and GDCM (gdcmconv, for JPEG 2000) run as child processes in a temp dir, so
 * the compressed bytes come from encoders independent of the decoders under test.
 */
export class ToolDir {
  readonly dir = tempDir('cxr-dicom-');
  private n = 0;

  /** Writes `bytes`, runs `tool args in out`, returns the output file. */
  convert(bytes: Uint8Array, tool: string, args: string[]): Uint8Array {
    const input = join(this.dir, `in-${this.n}.dcm`);
    const output = join(this.dir, `out-${this.n++}.dcm`);
    writeFileSync(input, bytes);
    execFileSync(tool, [...args, input, output], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return new Uint8Array(readFileSync(output));
  }

  /** dcmdump's text for `bytes`; throws if DCMTK cannot read the file. */
  dump(bytes: Uint8Array, args: string[] = []): string {
    const input = join(this.dir, `dump-${this.n++}.dcm`);
    writeFileSync(input, bytes);
    return execFileSync('dcmdump', [...args, input], { encoding: 'utf8', timeout: 60_000 });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
