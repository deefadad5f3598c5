import type { DecodedImage } from './dicom.js';

/** Messages between the viewer and its decode worker. */
export interface DecodeRequest {
  readonly id: number;
  readonly url: string;
  readonly token: string;
}

export interface DecodeTimings {
  readonly fetchMs: number;
  readonly decodeMs: number;
  readonly prepareMs: number;
}

export type DecodeResponse =
  | { readonly id: number; readonly ok: true; readonly image: DecodedImage; readonly timings: DecodeTimings }
  | { readonly id: number; readonly ok: false; readonly status: number; readonly message: string };
