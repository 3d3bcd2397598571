import { describe, expect, it } from 'vitest';
import { publicWsUrl } from '../../server/cluster/clusterNode.js';
import { httpUrlOf } from '../../server/cluster/nodeUrls.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { loadScore, nodeRecord } from '../../server/cluster/nodeRegistry.js';
import { redactRedisUrl, redisBackoffMs } from '../../server/cluster/redisConnection.js';
import { ConfigError, loadConfig } from '../../server/config/load.js';
import { BanList } from '../../server/rooms/banList.js';

const secret = { SFU_JWT_SECRET: 'x'.repeat(32) };
function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('cluster configuration', () => {
  it('is off by default and takes every cluster variable', () => {
    expect(loadConfig({}).cluster.redisUrl).toBeUndefined();
    const c = loadConfig({
      ...secret,
      SFU_REDIS_URL: 'redis://:pw@10.0.0.5:6379/2',
      SFU_NODE_ID: 'sfu-2',
      SFU_PUBLIC_WS_URL: 'wss://sfu2.school.example/ws',
      SFU_CLUSTER_HEARTBEAT_MS: '1000',
      SFU_CLUSTER_NODE_TTL_MS: '3000',
      SFU_CLUSTER_ROOM_TTL_MS: '5000',
      SFU_REDIS_KEY_PREFIX: 'school1:',
    }).cluster;
    expect(c).toEqual({
      redisUrl: 'redis://:pw@10.0.0.5:6379/2',
      nodeId: 'sfu-2',
      publicWsUrl: 'wss://sfu2.school.example/ws',
      heartbeatMs: 1000,
      nodeTtlMs: 3000,
      roomTtlMs: 5000,
      keyPrefix: 'school1:',
    });
  });

  it('refuses what would break a cluster, without echoing the Redis URL (it may hold a password)', () => {
    expect(problems({ SFU_REDIS_URL: 'redis://h:6379' })).toContain('SFU_JWT_SECRET=(hidden): required with SFU_REDIS_URL');
    expect(problems({ ...secret, SFU_REDIS_URL: 'http://pw@h' })).toBe('SFU_REDIS_URL=(hidden): expected a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379');
    expect(problems({ ...secret, SFU_REDIS_URL: 'redis://h', SFU_CLUSTER_HEARTBEAT_MS: '2000', SFU_CLUSTER_NODE_TTL_MS: '3000' })).toContain('at least twice SFU_CLUSTER_HEARTBEAT_MS');
    expect(problems({ ...secret, SFU_REDIS_URL: 'redis://h', SFU_HTTP_HOST: '0.0.0.0' })).toContain('SFU_PUBLIC_WS_URL="(default)": required with SFU_REDIS_URL');
    expect(problems({ SFU_PUBLIC_WS_URL: 'http://x/ws' })).toContain('SFU_PUBLIC_WS_URL="http://x/ws": expected a ws:// or wss:// URL');
    expect(problems({ SFU_NODE_ID: 'a b' })).toContain('SFU_NODE_ID="a b"');
  });

  it('derives the public URLs from the HTTP listener unless told', () => {
    expect(publicWsUrl(loadConfig({ SFU_HTTP_HOST: '127.0.0.2', SFU_HTTP_PORT: '3001' }))).toBe('ws://127.0.0.2:3001/ws');
    expect(publicWsUrl(loadConfig({ SFU_HTTP_HOST: '::1' }))).toBe('ws://[::1]:3000/ws');
    expect(publicWsUrl(loadConfig({ SFU_PUBLIC_WS_URL: 'wss://a.example/sfu/ws' }))).toBe('wss://a.example/sfu/ws');
    expect(httpUrlOf('wss://a.example/sfu/ws')).toBe('https://a.example/sfu');
    expect(httpUrlOf('ws://127.0.0.2:3001/ws')).toBe('http://127.0.0.2:3001');
  });
});

describe('cluster pieces', () => {
  it('keys: one prefix; a user id cannot forge another key', () => {
    const k = clusterKeys('sfu:');
    expect(k.room('algebra')).toBe('sfu:room:algebra');
    expect(k.node('n1')).toBe('sfu:node:n1');
    expect(k.ban('algebra', 'a:b*c')).toBe('sfu:ban:algebra:a%3Ab*c');
    expect(k.bansChannel).toBe('sfu:bans');
  });

  it("load score: peers, plus the workers' mean CPU as 100 peers per core", () => {
    expect(loadScore({ peers: 10, workerCpu: [] })).toBe(10);
    expect(loadScore({ peers: 10, workerCpu: [0.5, 0.1] })).toBeCloseTo(40);
  });

  it('Redis reconnect backoff: 100 ms doubling to 5 s, with jitter', () => {
    for (let i = 0; i < 50; i++) {
      expect(redisBackoffMs(0)).toBeGreaterThanOrEqual(80);
      expect(redisBackoffMs(0)).toBeLessThanOrEqual(120);
      expect(redisBackoffMs(30)).toBeLessThanOrEqual(6000);
      expect(redisBackoffMs(30)).toBeGreaterThanOrEqual(4000);
    }
  });

  it('the Redis URL is logged without credentials', () => {
    expect(redactRedisUrl('redis://user:secret@10.0.0.5:6379/1')).toBe('redis://10.0.0.5:6379/1');
    expect(redactRedisUrl('not a url')).not.toContain('not a url');
  });

  it('bans: issued ones are announced, restored ones (from another node) are not', () => {
    const bans = new BanList();
    const announced: string[] = [];
    bans.onBan = (room, user) => announced.push(`${room}/${user}`);
    bans.ban('r', 'u1', 60_000);
    bans.restore('r', 'u2', 60_000);
    expect(announced).toEqual(['r/u1']);
    expect(bans.remainingMs('r', 'u2')).toBeGreaterThan(59_000);
    bans.restore('r', 'u1', 1000); // a shorter copy does not shorten the ban
    expect(bans.remainingMs('r', 'u1')).toBeGreaterThan(59_000);
  });
});

describe('node records read from Redis', () => {
  const good = {
    id: 'node-b',
    wsUrl: 'ws://127.0.0.2:3001/ws',
    httpUrl: 'http://127.0.0.2:3001',
    startedAt: 1,
    at: 2,
    load: { peers: 0, rooms: 0, workerCpu: [0], score: 0 },
    rooms: [],
  };

  it('are taken whole when every field is usable', () => {
    expect(nodeRecord.safeParse(good).success).toBe(true);
  });

  it('are skipped with an unusable URL, or an HTTP URL that is not the node\'s own (where Authorization headers are forwarded)', () => {
    for (const bad of [
      { wsUrl: 'not a url' },
      { wsUrl: 'http://127.0.0.2:3001/ws' },
      { httpUrl: 'javascript:alert(1)' },
      { httpUrl: 'http://attacker.example' },
      { id: 'bad id with spaces' },
    ]) {
      expect(nodeRecord.safeParse({ ...good, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
