import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AccessClaims, TokenService } from '../auth/tokens.js';
import { AppError, badRequest, forbidden } from '../errors.js';
import type { RecordingService } from '../recording/recordingService.js';
import { describeIssues } from '../util/issues.js';
import { bearerClaims, route, sendError } from './apiHelpers.js';

const startBody = z.strictObject({ room: z.string().min(1).max(128) });

/**
 * REST control of recordings, for a teacher's token (Authorization: Bearer <JWT>), limited to the
 * token's own room: start, stop, list with metadata, read one, download a file.
 */
export function recordingsApi(tokens: TokenService, recordings: RecordingService): Router {
  const router = express.Router();
  const teacher = async (req: Request): Promise<AccessClaims> => {
    const claims = await bearerClaims(tokens, req);
    if (claims.role !== 'teacher') throw forbidden('only a teacher manages recordings');
    return claims;
  };
  const ownRoom = (claims: AccessClaims, room: string) => {
    if (claims.room !== room) throw forbidden(`your token is for room ${claims.room}, not ${room}`);
  };

  router.get('/', route(async (req, res) => {
    const claims = await teacher(req);
    res.json({ recordings: recordings.list(claims.room) });
  }));

  router.post('/', express.json({ limit: '4kb' }), route(async (req, res) => {
    const claims = await teacher(req);
    const body = startBody.safeParse(req.body);
    if (!body.success) throw badRequest(describeIssues(body.error, '(body)'));
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
