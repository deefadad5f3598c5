import { browserCodecs } from './codecs.js';
import { DicomError, asPreviewOf, buildPyramid, parseDicom, storedValues, toIndexed } from './dicom.js';
import type { DecodeRequest, DecodeResponse } from './decode-protocol.js';

/**
 * Fetches and decodes one scan off the main thread, then hands the pyramid over by transfer
 * (no copy). Timings travel with the result for the status bar and the benchmark.
 */
interface WorkerScope {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeResponse, transfer?: Transferable[]): void;
}
// The project compiles against the DOM lib; the worker global is typed by hand.
const scope = self as unknown as WorkerScope;

async function handle(request: DecodeRequest): Promise<DecodeResponse> {
  const started = performance.now();
  const response = await fetch(request.url, { headers: { authorization: `Bearer ${request.token}` } });
  if (!response.ok) {
    return { id: request.id, ok: false, status: response.status, message: `HTTP ${response.status}` };
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const fetched = performance.now();
  try {
    const parsed = parseDicom(bytes);
    const stored = await storedValues(parsed, browserCodecs);
    const decoded = performance.now();
    const { data, ...rest } = toIndexed(stored, parsed.module, parsed.transferSyntax);
    const levels = buildPyramid(data, parsed.module.columns, parsed.module.rows);
    const done = performance.now();
    const image = request.previewOf
      ? asPreviewOf({ ...rest, levels }, request.previewOf)
      : { ...rest, levels };
    return {
      id: request.id,
      ok: true,
      image,
      timings: { fetchMs: fetched - started, decodeMs: decoded - fetched, prepareMs: done - decoded },
    };
  } catch (error) {
    const message = error instanceof DicomError || error instanceof Error ? error.message : String(error);
    return { id: request.id, ok: false, status: 0, message };
  }
}

scope.onmessage = (event: MessageEvent<DecodeRequest>) => {
  handle(event.data).then(
    (result) => {
      const transfer = result.ok ? result.image.levels.map((l) => l.data.buffer as ArrayBuffer) : [];
      scope.postMessage(result, transfer);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      scope.postMessage({ id: event.data.id, ok: false, status: 0, message } satisfies DecodeResponse);
    },
  );
};
