/**
 * Every Redis key and channel of the cluster, in one place (docs/operations.md lists them). The
 * prefix (SFU_REDIS_KEY_PREFIX) lets several clusters share one Redis.
 */
export interface ClusterKeys {
  /** `<p>node:<nodeId>`: the node's record (JSON), expiring SFU_CLUSTER_NODE_TTL_MS after its last heartbeat. */
  node(nodeId: string): string;
  /** SCAN pattern over all node records. */
  readonly nodePattern: string;
  /** `<p>room:<roomId>`: the id of the room's origin node, expiring SFU_CLUSTER_ROOM_TTL_MS after its last refresh. */
  room(roomId: string): string;
  /** `<p>ban:<roomId>:<userId>`: a removed user, expiring when the ban ends. */
  ban(roomId: string, userId: string): string;
  /** Pub/sub channel announcing bans to every node. */
  readonly bansChannel: string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    node: (id) => `${prefix}node:${id}`,
    nodePattern: `${prefix}node:*`,
    room: (id) => `${prefix}room:${id}`,
    // Room ids are [\w.-]; user ids are free text: encoded so that no user id can forge another key.
    ban: (room, user) => `${prefix}ban:${room}:${encodeURIComponent(user)}`,
    bansChannel: `${prefix}bans`,
  };
}
