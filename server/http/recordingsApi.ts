import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { ErrorCode } from '../../protocol/schema.js';
import type { TokenClaims, TokenService } from '../auth/tokens.js';
import { AppError, badRequest, forbidden, toWireError } from '../errors.js';
import type { RecordingService } from '../recording/recordingService.js';

const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  room_full: 409,
  rate_limited: 429,
  internal: 500,
};

/** Sends a typed error as `{ error: { code, message } }` with the matching HTTP status. */
export function sendError(res: Response, err: unknown): void {
  const wire = toWireError(err);
  res.status(httpStatus[wire.code]).json({ error: { code: wire.code, message: wire.message } });
}

const startBody = z.strictObject({ room: z.string().min(1).max(128) });

/**
 * REST control of recordings, for a teacher's token (Authorization: Bearer <JWT>), limited to the
 * token's own room: start, stop, list with metadata, read one, download a file.
 */
export function recordingsApi(tokens: TokenService, recordings: RecordingService): Router {
  const router = express.Router();
  const teacher = async (req: Request): Promise<TokenClaims> => {
    const header = req.headers.authorization ?? '';
    const claims = await tokens.verify(header.startsWith('Bearer ') ? header.slice(7) : undefined);
    if (claims.role !== 'teacher') throw forbidden('only a teacher manages recordings');
    return claims;
  };
  const ownRoom = (claims: TokenClaims, room: string) => {
    if (claims.room !== room) throw forbidden(`your token is for room ${claims.room}, not ${room}`);
  };
  const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, _next: NextFunction) =>
    fn(req, res).catch((err: unknown) => sendError(res, err));

  router.get('/', route(async (req, res) => {
    const claims = await teacher(req);
    res.json({ recordings: recordings.list(claims.room) });
  }));

  router.post('/', express.json({ limit: '4kb' }), route(async (req, res) => {
    const claims = await teacher(req);
    const body = startBody.safeParse(req.body);
    if (!body.success) throw badRequest(body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
    ownRoom(claims, body.data.room);
    res.status(201).json({ recording: recordings.start(body.data.room) });
  }));

  router.get('/:id', route(async (req, res) => {
    const claims = await teacher(req);
    const meta = recordings.get(String(req.params.id));
    ownRoom(claims, meta.room);
    res.json({ recording: meta });
  }));

  router.post('/:id/stop', route(async (req, res) => {
    const claims = await teacher(req);
    const meta = recordings.get(String(req.params.id));
    ownRoom(claims, meta.room);
    if (meta.state !== 'recording') throw new AppError('conflict', `recording is already ${meta.state}`);
    res.json({ recording: await recordings.stop(meta.room) });
  }));

  router.get('/:id/files/:name', route(async (req, res) => {
    const claims = await teacher(req);
    const meta = recordings.get(String(req.params.id));
    ownRoom(claims, meta.room);
    const file = recordings.filePath(meta.id, String(req.params.name));
    await new Promise<void>((resolve, reject) => res.download(file, String(req.params.name), (err) => (err ? reject(err) : resolve())));
  }));

  // The routes catch their own errors; this answers what express.json() rejects (bad JSON, too big).
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, err instanceof AppError ? err : badRequest((err as Error).message)));
  return router;
}
