import { Readable } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ClusterNode } from '../cluster/clusterNode.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { sendError } from './apiHelpers.js';
import { unavailable } from '../errors.js';

/** Marks a request one node forwarded to another: it is never forwarded again (no loops). */
const forwardedHeader = 'x-sfu-forwarded-by';

/**
 * Cluster: sends a request about a class that lives on another node to that node, as is (method,
 * path, body, the caller's Authorization, which that node checks itself), and relays its answer
 * (status, type, body, streamed: a recording's file too).
 */
export async function forward(req: Request, res: Response, originHttpUrl: string, nodeId: string): Promise<void> {
  const headers: Record<string, string> = { [forwardedHeader]: nodeId };
  for (const h of ['authorization', 'content-type', 'range']) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let answer: globalThis.Response;
  try {
    answer = await fetch(`${originHttpUrl}${req.originalUrl}`, {
      method: req.method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    } as RequestInit);
  } catch {
    sendError(res, unavailable(`the class's node (${originHttpUrl}) did not answer; try again`));
    return;
  }
  res.status(answer.status);
  for (const h of ['content-type', 'content-length', 'content-disposition', 'content-range', 'accept-ranges']) {
    const v = answer.headers.get(h);
    if (v) res.setHeader(h, v);
  }
  if (!answer.body) {
    res.end();
    return;
  }
  Readable.fromWeb(answer.body as never).pipe(res);
}

export const wasForwarded = (req: Request) => req.headers[forwardedHeader] !== undefined;

/**
 * Middleware: a request whose class (`roomOf`; undefined: not about one class) is not open here but
 * on another live node is forwarded there; anything else goes on to the local handlers.
 */
export function forwardToOrigin(cluster: ClusterNode, rooms: RoomRegistry, roomOf: (req: Request) => Promise<string | undefined>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void (async () => {
      if (wasForwarded(req)) return next();
      const room = await roomOf(req).catch(() => undefined);
      const local = room ? rooms.get(room) : undefined;
      if (!room || (local && !local.closed)) return next();
      const origin = await cluster.remoteOriginHttpUrl(room).catch(() => undefined);
      if (!origin) return next();
      await forward(req, res, origin, cluster.id);
    })().catch(next);
  };
}
