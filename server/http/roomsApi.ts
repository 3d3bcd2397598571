import express, { type Request, type Router } from 'express';
import type { AccessClaims, TokenService } from '../auth/tokens.js';
import type { ClusterNode } from '../cluster/clusterNode.js';
import { forbidden, notFound } from '../errors.js';
import type { QualityMonitor } from '../quality/qualityMonitor.js';
import type { RecordingService } from '../recording/recordingService.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { bearerClaims, route } from './apiHelpers.js';
import { forward, wasForwarded } from './originProxy.js';

/**
 * Read-only view of live classes (Authorization: Bearer <JWT>): an `admin` token sees every room,
 * a `teacher` token its own room; anyone else is refused. In a cluster, the list has every node's
 * rooms (each with its `node`; other nodes' as of their last heartbeat), and one room is fetched
 * from the node it lives on.
 */
export function roomsApi(tokens: TokenService, rooms: RoomRegistry, views: RoomViews, cluster?: ClusterNode): Router {
  const router = express.Router();
  const reader = async (req: Request): Promise<AccessClaims> => {
    const claims = await bearerClaims(tokens, req);
    if (claims.role !== 'admin' && claims.role !== 'teacher') throw forbidden('only an admin or a teacher can read rooms');
    return claims;
  };
  const mayRead = (claims: AccessClaims, roomId: string) => claims.role === 'admin' || claims.room === roomId;

  router.get('/', route(async (req, res) => {
    const claims = await reader(req);
    const here = rooms.all().map((r) => (cluster ? { ...summary(r, views.recordings), node: cluster.id } : summary(r, views.recordings)));
    const elsewhere = cluster?.remoteRooms() ?? [];
    res.json({ rooms: [...here, ...elsewhere].filter((r) => mayRead(claims, r.id)) });
  }));

  router.get('/:id', route(async (req, res) => {
    const claims = await reader(req);
    const id = String(req.params.id);
    if (!mayRead(claims, id)) throw forbidden(`your token is for room ${claims.room}, not ${id}`);
    const room = rooms.get(id);
    if (!room || room.closed) {
      // Another node's room: ask that node, with the caller's own token (each node checks it).
      const origin = cluster && !wasForwarded(req) ? await cluster.remoteOriginHttpUrl(id) : undefined;
      if (!origin || !cluster) throw notFound(`no open room ${id}`);
      await forward(req, res, origin, cluster.id);
      return;
    }
    res.json({ room: cluster ? { ...detail(room, views), node: cluster.id } : detail(room, views) });
  }));
  return router;
}

/** What the services that follow rooms know of them: the recording running, each peer's quality. */
export interface RoomViews {
  recordings: Pick<RecordingService, 'activeFor'>;
  quality: Pick<QualityMonitor, 'current'>;
}

export function summary(room: Room, recordings: RoomViews['recordings']) {
  const recording = recordings.activeFor(room.id);
  const peers = [...room.peers.values()];
  return {
    id: room.id,
    worker: room.host.index,
    // A class past SFU_ROOM_ROUTER_MAX_CONSUMERS spans several workers, the first one above.
    routers: room.routers.all.map((rr) => ({ worker: rr.host.index, peers: rr.peers, consumers: rr.consumers })),
    peers: peers.length,
    publishers: peers.filter((p) => p.producers.size > 0).length,
    recording: recording?.active ? recording.meta.id : null,
    locked: room.policy.locked,
  };
}

function detail(room: Room, views: RoomViews) {
  return {
    ...summary(room, views.recordings),
    policy: room.policy,
    activeSpeaker: room.activeSpeaker,
    participants: [...room.peers.values()].map((p) => ({
      ...p.info(),
      connected: p.sink !== null,
      quality: views.quality.current(p) ?? null,
      transports: [...p.transports.values()].map((t) => ({ id: t.id, direction: t.appData.direction, iceState: t.iceState, dtlsState: t.dtlsState })),
      consumers: p.consumers.size,
    })),
  };
}
