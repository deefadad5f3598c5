import { type Result, type SocketErrorCode, err } from '@cxr/shared';
import type { PortError } from '../collab/scan-doc-port.js';

/** An expected refusal, acknowledged to the client as `{ok: false, error}`. */
export interface LiveError {
  readonly code: SocketErrorCode;
  readonly message: string;
}

export type LiveResult<T> = Result<T, LiveError>;

export const refuse = (code: SocketErrorCode, message: string) => err<LiveError>({ code, message });

export const forbidden = (message: string) => refuse('forbidden', message);

/** Scan-document port errors keep their code (they are a subset of ours). */
export const fromPort = (error: PortError) => refuse(error.code, error.message);
