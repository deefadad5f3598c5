import type { DecodedImage } from './dicom.js';

/** Messages between the viewer and its decode worker. */
export interface DecodeRequest {
  readonly id: number;
  readonly url: string;
  readonly token: string;
  /**
   * The file is a preview of an image this size at 1 / `step` of its resolution: the answer
   * is that image, with the preview as its pyramid levels from `step` up.
   */
  readonly previewOf?: { readonly rows: number; readonly columns: number; readonly step: number };
}

export interface DecodeTimings {
  readonly fetchMs: number;
  readonly decodeMs: number;
  readonly prepareMs: number;
}

export type DecodeResponse =
  | { readonly id: number; readonly ok: true; readonly image: DecodedImage; readonly timings: DecodeTimings }
  | { readonly id: number; readonly ok: false; readonly status: number; readonly message: string };
