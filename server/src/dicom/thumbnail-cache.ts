import type { Result } from '@cxr/shared';
import type { BlobStore } from './blob-store.js';
import type { FrameDecoders } from './codecs/frame-decoders.js';
import type { DicomError } from './errors.js';
import { renderThumbnail } from './thumbnail.js';

/** Longest side of worklist thumbnails, in pixels. */
export const THUMBNAIL_SIDE = 256;

/**
 * PNG thumbnails of stored DICOM files, rendered on first request and kept on disk next to
 * nothing else: `thumbs` names each PNG by the SHA-256 of the DICOM file it shows, so a file's
 * thumbnail is as immutable as the file. Concurrent first requests share one render.
 */
export class ThumbnailCache {
  private readonly inFlight = new Map<string, Promise<Result<string, DicomError>>>();

  constructor(
    private readonly dicom: BlobStore,
    private readonly thumbs: BlobStore,
    private readonly decoders: FrameDecoders,
  ) {}

  /** The path of the thumbnail of the stored file `sha256`, rendering it if needed. */
  async pathFor(sha256: string): Promise<Result<string, DicomError>> {
    if (await this.thumbs.has(sha256)) return { ok: true, value: this.thumbs.pathFor(sha256) };
    const pending = this.inFlight.get(sha256);
    if (pending) return pending;
    const render = this.render(sha256).finally(() => this.inFlight.delete(sha256));
    this.inFlight.set(sha256, render);
    return render;
  }

  private async render(sha256: string): Promise<Result<string, DicomError>> {
    const bytes = await this.dicom.read(sha256);
    const png = await renderThumbnail(bytes, { maxSide: THUMBNAIL_SIDE, decoders: this.decoders });
    if (!png.ok) return png;
    await this.thumbs.putAs(sha256, png.value);
    return { ok: true, value: this.thumbs.pathFor(sha256) };
  }
}
