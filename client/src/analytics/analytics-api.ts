import { type AnalyticsResponse, AnalyticsResponseSchema } from '@cxr/shared';
import { ApiError } from '../app/api.js';
import { downloadExport } from '../blind/blind-api.js';

const analyticsPath = (sessionId: string) => `/api/sessions/${encodeURIComponent(sessionId)}/analytics`;

/**
 * `GET /api/sessions/:id/analytics` (R-ANALYTICS-5), parsed with the shared schema: an
 * answer of another shape is an error on screen, not a plot of undefined values.
 */
export async function fetchAnalytics(token: string, sessionId: string): Promise<AnalyticsResponse> {
  let response: Response;
  try {
    response = await fetch(analyticsPath(sessionId), {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = typeof body === 'object' && body !== null ? Reflect.get(body, 'error') : undefined;
    const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    const message = typeof error === 'object' && error !== null ? Reflect.get(error, 'message') : undefined;
    throw new ApiError(
      response.status,
      typeof code === 'string' ? code : 'http',
      typeof message === 'string' ? message : `HTTP ${response.status}`,
    );
  }
  const parsed = AnalyticsResponseSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(0, 'bad_response', 'unexpected analytics answer');
  return parsed.data;
}

/** The CSV (one line per reader x scan), fetched with the bearer token and saved as a file. */
export function downloadAnalyticsCsv(token: string, sessionId: string): Promise<number> {
  return downloadExport(token, `${analyticsPath(sessionId)}?format=csv`, `analytics-${sessionId}.csv`);
}
