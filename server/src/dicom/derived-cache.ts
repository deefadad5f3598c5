import type { Result } from '@cxr/shared';
import type { BlobStore } from './blob-store.js';
import type { ImageStore } from './image-store.js';
import type { DicomError } from './errors.js';

/** Renders a derived file (thumbnail, preview) from a stored DICOM file's bytes. */
export type Renderer = (dicom: Uint8Array) => Promise<Result<Uint8Array, DicomError>>;

/**
 * Files derived from stored DICOM files (worklist thumbnails, first-paint previews), rendered
 * on first request and kept on disk: each is named by the SHA-256 of the DICOM file it comes
 * from, so it is as immutable as that file. Concurrent first requests share one render.
 */
export class DerivedFileCache {
  private readonly inFlight = new Map<string, Promise<Result<string, DicomError>>>();

  constructor(
    private readonly dicom: Pick<ImageStore, 'read'>,
    private readonly store: BlobStore,
    private readonly render: Renderer,
  ) {}

  /** The path of what was derived from the stored file `sha256`, rendering it if needed. */
  async pathFor(sha256: string): Promise<Result<string, DicomError>> {
    if (await this.store.has(sha256)) return { ok: true, value: this.store.pathFor(sha256) };
    const pending = this.inFlight.get(sha256);
    if (pending) return pending;
    const rendering = this.renderAndStore(sha256).finally(() => this.inFlight.delete(sha256));
    this.inFlight.set(sha256, rendering);
    return rendering;
  }

  private async renderAndStore(sha256: string): Promise<Result<string, DicomError>> {
    const derived = await this.render(await this.dicom.read(sha256));
    if (!derived.ok) return derived;
    await this.store.putAs(sha256, derived.value);
    return { ok: true, value: this.store.pathFor(sha256) };
  }
}
