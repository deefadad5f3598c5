import type { DecodeRequest, DecodeResponse } from './decode-protocol.js';

/**
 * One decode worker for the page; requests are matched to answers by id so a scan switched
 * away from mid-decode never paints over the next one.
 */
export class DecodeClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: DecodeResponse) => void>();

  private ensure(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL('./decode.worker.ts', import.meta.url), {
        type: 'module',
        name: 'dicom-decode',
      });
      this.worker.onmessage = (event: MessageEvent<DecodeResponse>) => {
        const resolve = this.pending.get(event.data.id);
        this.pending.delete(event.data.id);
        resolve?.(event.data);
      };
      this.worker.onerror = (event) => {
        for (const [id, resolve] of this.pending) {
          resolve({ id, ok: false, status: 0, message: event.message || 'decode worker failed' });
        }
        this.pending.clear();
      };
    }
    return this.worker;
  }

  /** Starts the worker now (module fetch and compile) so the first scan does not wait for it. */
  warm(): void {
    this.ensure();
  }

  decode(url: string, token: string, previewOf?: DecodeRequest['previewOf']): Promise<DecodeResponse> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      const request: DecodeRequest = previewOf ? { id, url, token, previewOf } : { id, url, token };
      this.ensure().postMessage(request);
    });
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.pending.clear();
  }
}

let shared: DecodeClient | undefined;

/** The page's one decode worker client, created on first use. */
export function sharedDecoder(): DecodeClient {
  shared ??= new DecodeClient();
  return shared;
}
