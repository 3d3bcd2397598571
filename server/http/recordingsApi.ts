import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AccessClaims, TokenService } from '../auth/tokens.js';
import { AppError, badRequest, forbidden } from '../errors.js';
import { denial } from '../recording/access.js';
import type { RecordingMeta } from '../recording/recording.js';
import type { RecordingService } from '../recording/recordingService.js';
import { describeIssues } from '../util/issues.js';
import { bearerClaims, route, sendError } from './apiHelpers.js';

const startBody = z.strictObject({ room: z.string().min(1).max(128) });
/** A page is bounded: a teacher or an admin pages on with `cursor` (the previous answer's `nextCursor`). */
export const maxPage = 200;
const defaultPage = 50;
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(maxPage).optional(),
  cursor: z.string().min(1).max(512).optional(),
  /** Admin only: one room's recordings (a teacher's are always of its own room). */
  room: z.string().min(1).max(128).optional(),
});

/**
 * REST control of recordings (Authorization: Bearer <JWT>). A teacher's token starts and stops
 * its own room's recording, and lists, reads and downloads the recordings it may read (see
 * recording/access.ts: its class sessions, its owner); an admin token reads every recording.
 */
export function recordingsApi(tokens: TokenService, recordings: RecordingService): Router {
  const router = express.Router();
  const reader = async (req: Request): Promise<AccessClaims> => {
    const claims = await bearerClaims(tokens, req);
    if (claims.role !== 'teacher' && claims.role !== 'admin') throw forbidden('only a teacher manages recordings');
    return claims;
  };
  const teacher = async (req: Request): Promise<AccessClaims> => {
    const claims = await reader(req);
    if (claims.role !== 'teacher') throw forbidden('only a teacher starts and stops recordings');
    return claims;
  };
  const readable = (claims: AccessClaims, meta: RecordingMeta): RecordingMeta => {
    const why = denial(claims, meta, recordings.openSessionOf(meta.room));
    if (why) throw forbidden(why);
    return meta;
  };

  router.get('/', route(async (req, res) => {
    const claims = await reader(req);
    const query = listQuery.safeParse(req.query);
    if (!query.success) throw badRequest(describeIssues(query.error, '(query)'));
    const { limit = defaultPage, cursor, room } = query.data;
    if (room !== undefined && claims.role !== 'admin') throw forbidden('only an admin lists by room; a teacher lists its own');
    const open = recordings.openSessionOf(claims.room);
    const keep = claims.role === 'admin' ? (m: RecordingMeta) => room === undefined || m.room === room : (m: RecordingMeta) => denial(claims, m, open) === undefined;
    res.json(recordings.page(keep, limit, cursor));
  }));

  router.post('/', express.json({ limit: '4kb' }), route(async (req, res) => {
    const claims = await teacher(req);
    const body = startBody.safeParse(req.body);
    if (!body.success) throw badRequest(describeIssues(body.error, '(body)'));
    if (claims.room !== body.data.room) throw forbidden(`your token is for room ${claims.room}, not ${body.data.room}`);
    res.status(201).json({ recording: recordings.start(body.data.room, claims) });
  }));

  router.get('/:id', route(async (req, res) => {
    const claims = await reader(req);
    res.json({ recording: readable(claims, recordings.get(String(req.params.id))) });
  }));

  router.post('/:id/stop', route(async (req, res) => {
    const claims = await teacher(req);
    const meta = readable(claims, recordings.get(String(req.params.id)));
    if (meta.state !== 'recording') throw new AppError('conflict', `recording is already ${meta.state}`);
    res.json({ recording: await recordings.stop(meta.room) });
  }));

  router.get('/:id/files/:name', route(async (req, res) => {
    const claims = await reader(req);
    const meta = readable(claims, recordings.get(String(req.params.id)));
    const file = recordings.filePath(meta.id, String(req.params.name));
    await new Promise<void>((resolve, reject) => res.download(file, String(req.params.name), (err) => (err ? reject(err) : resolve())));
  }));

  // The routes catch their own errors; this answers what express.json() rejects (bad JSON, too big).
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, err instanceof AppError ? err : badRequest((err as Error).message)));
  return router;
}
