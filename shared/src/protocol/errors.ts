import { z } from 'zod';

/** Error codes of the HTTP API; every error body is `{error: {code, message}}`. */
export const API_ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthenticated',
  'invalid_credentials',
  'forbidden',
  'not_found',
  'conflict',
  'already_locked',
  'not_locked',
  'undecided',
  'payload_too_large',
  'unsupported_media_type',
  'unprocessable',
  'rate_limited',
  'internal',
  'unavailable',
  'range_not_satisfiable',
  // Images and the hospital's PACS (DICOMweb).
  'store_unavailable',
  'image_missing',
  'pacs_not_configured',
  'pacs_unavailable',
  'pacs_refused',
  'already_sent',
  // A lock that would break the VinDr-CXR rule of at least one global label (R-LOCK-7).
  'no_global_label',
  // DICOM import: why a file was refused (the server's DICOM library defines each one's status).
  'dicom_empty',
  'dicom_not_dicom',
  'dicom_no_preamble',
  'dicom_truncated',
  'dicom_malformed',
  'dicom_too_large',
  'dicom_unsupported_syntax',
  'dicom_missing_tag',
  'dicom_bad_value',
  'dicom_unsupported_image',
  'dicom_pixel_length',
  'dicom_no_fragments',
  'dicom_decode_failed',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export const ApiErrorBodySchema = z.object({
  error: z.object({ code: z.enum(API_ERROR_CODES), message: z.string(), details: z.unknown().optional() }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** Expected failures are values; bugs throw. */
export type Result<T, E = { code: string; message: string }> =
  | { ok: true; value: T }
  | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
