import type { ErrorCode, RedirectTarget } from '../protocol/schema.js';

/** An error meant for the client: its code goes on the wire as is. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (m: string) => new AppError('bad_request', m);
export const unauthorized = (m: string) => new AppError('unauthorized', m);
export const forbidden = (m: string) => new AppError('forbidden', m);
export const notFound = (m: string) => new AppError('not_found', m);
export const conflict = (m: string) => new AppError('conflict', m);
export const roomFull = (m: string) => new AppError('room_full', m);
export const rateLimited = (m: string) => new AppError('rate_limited', m);
/** Cluster: the room's node cannot be determined now (Redis unreachable) and the room is not here. */
export const unavailable = (m: string) => new AppError('unavailable', m);

/** Cluster: the room lives on another node; the client joins there (one hop). */
export class RedirectError extends AppError {
  constructor(readonly target: RedirectTarget) {
    super('redirect', `this class is served by node ${target.nodeId}; join at ${target.url}`);
    this.name = 'RedirectError';
  }
}

/**
 * Maps any thrown value to a wire error. mediasoup rejects invalid parameters with TypeError or
 * UnsupportedError: the client sent something wrong. Anything else is ours: `internal`, with the
 * details kept in the log, not sent.
 */
export function toWireError(err: unknown): { code: ErrorCode; message: string; internal: boolean; redirect?: RedirectTarget } {
  if (err instanceof RedirectError) return { code: err.code, message: err.message, internal: false, redirect: err.target };
  if (err instanceof AppError) return { code: err.code, message: err.message, internal: false };
  if (err instanceof TypeError || (err instanceof Error && err.name === 'UnsupportedError')) {
    return { code: 'bad_request', message: err.message, internal: false };
  }
  return { code: 'internal', message: 'internal error; the request changed nothing, try again', internal: true };
}
