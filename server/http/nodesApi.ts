import express, { type Router } from 'express';
import type { TokenService } from '../auth/tokens.js';
import type { ClusterNode } from '../cluster/clusterNode.js';
import { forbidden } from '../errors.js';
import { bearerClaims, route } from './apiHelpers.js';

/**
 * Cluster mode, `GET /api/nodes` with an admin token: the live nodes as this node last read them
 * from Redis (id, URLs, start time, last heartbeat, load), this one first.
 */
export function nodesApi(tokens: TokenService, cluster: ClusterNode): Router {
  const router = express.Router();
  router.get('/', route(async (req, res) => {
    const claims = await bearerClaims(tokens, req);
    if (claims.role !== 'admin') throw forbidden('only an admin can read the cluster');
    res.json({
      node: cluster.id,
      redis: cluster.redisState,
      nodes: cluster.nodes.live().map(({ rooms: _rooms, ...n }) => n),
    });
  }));
  return router;
}
