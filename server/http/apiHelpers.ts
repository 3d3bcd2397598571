import type { NextFunction, Request, Response } from 'express';
import type { ErrorCode } from '../../protocol/schema.js';
import type { AccessClaims, TokenService } from '../auth/tokens.js';
import { toWireError } from '../errors.js';

const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  room_full: 409,
  rate_limited: 429,
  internal: 500,
  redirect: 421, // Misdirected Request (the WebSocket join's code; no HTTP route throws it)
  unavailable: 503,
};

/** Sends a typed error as `{ error: { code, message } }` with the matching HTTP status. */
export function sendError(res: Response, err: unknown): void {
  const wire = toWireError(err);
  res.status(httpStatus[wire.code]).json({ error: { code: wire.code, message: wire.message } });
}

/** The verified claims of `Authorization: Bearer <JWT>`; unauthorized without a valid one. */
export async function bearerClaims(tokens: TokenService, req: Request): Promise<AccessClaims> {
  const header = req.headers.authorization ?? '';
  return tokens.verify(header.startsWith('Bearer ') ? header.slice(7) : undefined);
}

/** An async route whose failures become typed error answers. */
export const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, _next: NextFunction) =>
  fn(req, res).catch((err: unknown) => sendError(res, err));
