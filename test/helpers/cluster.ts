import os from 'node:os';
import path from 'node:path';
import type { AccessClaims } from '../../server/auth/tokens.js';
import { TokenService } from '../../server/auth/tokens.js';
import { spawnServer, waitFor, type ServerProcess } from './serverProcess.js';

export const clusterSecret = 'cluster-test-secret-0123456789abcdef';
const tokens = new TokenService(clusterSecret);

/** A token every node of a test cluster accepts (they share the secret). */
export const clusterToken = (claims: AccessClaims) => tokens.sign(claims, 600);

/** Where a test node writes recordings (a test that records removes it). */
export const recordingsDirOf = (nodeId: string) => path.join(os.tmpdir(), `sfu-cluster-recordings-${nodeId}`);

export interface ClusterNodeSpec {
  id: string;
  /** Loopback address for HTTP and media: 127.0.0.1, 127.0.0.2... (its ports are allocated, checked free there). */
  ip: string;
}

/**
 * One node of a test cluster: a real server process on its own loopback address (HTTP and RTC),
 * with short heartbeats and TTLs so that a death is noticed within about 1.5 s.
 */
export function spawnClusterNode(spec: ClusterNodeSpec, redisUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer({
    SFU_HTTP_HOST: spec.ip,
    SFU_RTC_LISTEN_IP: spec.ip,
    SFU_WORKERS: '1',
    SFU_JWT_SECRET: clusterSecret,
    SFU_DEV_TOKENS: 'true',
    SFU_REDIS_URL: redisUrl,
    SFU_NODE_ID: spec.id,
    SFU_CLUSTER_HEARTBEAT_MS: '300',
    SFU_CLUSTER_NODE_TTL_MS: '1500',
    // Longer than a node's: a dead node's rooms are still claimed when it is found dead (a takeover).
    SFU_CLUSTER_ROOM_TTL_MS: '4000',
    SFU_RESUME_GRACE_MS: '5000',
    SFU_RECORDINGS_DIR: recordingsDirOf(spec.id),
    ...env,
  });
}

export interface Health {
  status: string;
  cluster?: { node: string; redis: string; nodes: number; heldRooms: number };
}

export async function health(node: ServerProcess): Promise<Health> {
  return (await (await fetch(`${node.url}/healthz`)).json()) as Health;
}

/** Waits until every node is up and sees all of them (and Redis). */
export async function waitForCluster(nodes: ServerProcess[], timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => {
    for (const n of nodes) {
      const h = await health(n);
      if (h.cluster?.redis !== 'ready' || h.cluster.nodes !== nodes.length) return false;
    }
    return true;
  }, timeoutMs, `${nodes.length} cluster nodes up and seeing each other`);
}

export const wsUrlOf = (node: ServerProcess) => node.wsUrl;
