import os from 'node:os';
import { z } from 'zod';

/**
 * The one configuration schema. Every field has a safe development default and an environment
 * variable that overrides it (see `envVars` below and the README's table).
 */
const port = z.number().int().min(1).max(65535);
const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export const configSchema = z
  .object({
    http: z.object({
      host: z.string().min(1),
      port,
      /** Both or neither: HTTPS/WSS when set (browsers need a secure context beyond localhost). */
      tlsCert: z.string().min(1).optional(),
      tlsKey: z.string().min(1).optional(),
      headersTimeoutMs: z.number().int().min(500).max(120_000),
    }),
    rtc: z.object({
      /** Local address the workers' WebRtcServers bind to. */
      listenIp: z.ipv4().or(z.ipv6()),
      /** Address put in ICE candidates, for a server behind NAT or bound to 0.0.0.0. */
      announcedAddress: z.string().min(1).optional(),
      /** Worker i listens on UDP and TCP port basePort + i. */
      basePort: port,
      /**
       * Ports the workers bind on 127.0.0.1 only: pipes between a room's routers and the
       * recording transports. Never exposed; kept away from every other range.
       */
      internalMinPort: port,
      internalMaxPort: port,
    }),
    workers: z.object({
      count: z.number().int().min(1).max(256),
      logLevel: z.enum(['debug', 'warn', 'error', 'none']),
      /** How often each worker's CPU usage is sampled for load placement. */
      loadSampleMs: z.number().int().min(100).max(60_000),
      /** New students and observers are refused while every worker's sampled CPU is at or above this share of a core (1: never). */
      maxCpu: z.number().min(0.01).max(1),
    }),
    log: z.object({ level: logLevel }),
    auth: z.object({
      /** HS256 secret for access tokens. Unset: a random one per process (development only). */
      jwtSecret: z.string().min(32).optional(),
      /** POST /api/tokens issues tokens to anyone: on by default only while no secret is set. */
      devTokens: z.boolean().optional(),
      devTokenTtlSec: z.number().int().min(60).max(86_400),
    }),
    signaling: z.object({
      /** Extra allowed Origins; the server's own origin and localhost are always allowed. */
      allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin like https://school.example')),
      maxMessageBytes: z.number().int().min(1024).max(16 * 1024 * 1024),
      heartbeatMs: z.number().int().min(1000).max(300_000),
      joinTimeoutMs: z.number().int().min(500).max(300_000),
      resumeGraceMs: z.number().int().min(0).max(600_000),
      rateLimitPerSec: z.number().int().min(1).max(100_000),
      rateLimitBurst: z.number().int().min(1).max(100_000),
    }),
    rooms: z.object({
      /** Participants per room; teachers are let in beyond it. */
      maxPeers: z.number().int().min(1).max(10_000),
      /** Peers publishing at least one source per room; teachers are let publish beyond it. */
      maxPublishers: z.number().int().min(1).max(10_000),
      /**
       * Consumers one router of a room should carry before new participants go to a router on
       * another worker (the room's producers are piped there). Beyond one core's worth.
       */
      routerMaxConsumers: z.number().int().min(1).max(1_000_000),
      /** A peer the teacher removed may not rejoin the room with the same user id for this long. */
      removeBanSec: z.number().int().min(0).max(7 * 86_400),
      /** The room policy a new room starts with (the teacher may change it). */
      joinMuted: z.boolean(),
      studentsMayUnmute: z.boolean(),
      maxScreenShares: z.number().int().min(1).max(16),
      /** Chat: messages kept for late joiners, longest message, and per-peer rate. */
      chatHistory: z.number().int().min(0).max(1000),
      chatMaxLength: z.number().int().min(1).max(4000),
      chatRatePerSec: z.number().min(0.01).max(100),
      chatBurst: z.number().int().min(1).max(1000),
    }),
    quality: z.object({
      /** How often each peer's stats are sampled and its quality levels computed. */
      intervalMs: z.number().int().min(500).max(60_000),
      /** poor beyond these (either), fair beyond the fair ones, else good. */
      poorRttMs: z.number().int().min(1).max(60_000),
      poorLossPct: z.number().min(0).max(100),
      fairRttMs: z.number().int().min(1).max(60_000),
      fairLossPct: z.number().min(0).max(100),
      /**
       * A browser adapts its sending to a narrow uplink at once, so loss and delay stay low: the
       * share of time its encoder reports being held back by bandwidth says more.
       */
      poorLimitedPct: z.number().min(0).max(100),
      fairLimitedPct: z.number().min(0).max(100),
      /** Good samples in a row before a downlink's reduced video layers are raised again. */
      recoverSamples: z.number().int().min(1).max(100),
    }),
    recording: z.object({
      /** Where recordings go: one folder per recording, with recording.json and the files. */
      dir: z.string().min(1),
      ffmpegPath: z.string().min(1),
      /** Local UDP ports ffmpeg listens on for the RTP it records (a pair per stream). */
      minPort: port,
      maxPort: port,
    }),
    turn: z.object({
      /** Shared with coturn (use-auth-secret). Unset: no TURN servers are handed out. Never sent, never logged. */
      secret: z.string().min(16).optional(),
      /** Host name or IP clients reach coturn at. Default: the announced address, else the listen IP. */
      host: z.string().min(1).optional(),
      port: port,
      /** TURN over TLS (for firewalls that pass only HTTPS: 443); needs tlsCert and tlsKey for coturn. */
      tlsPort: port.optional(),
      tlsCert: z.string().min(1).optional(),
      tlsKey: z.string().min(1).optional(),
      realm: z.string().min(1).regex(/^[\w.-]+$/),
      credentialTtlSec: z.number().int().min(60).max(7 * 86_400),
      /** Address coturn binds, and the public address it announces when behind NAT. */
      listenIp: z.ipv4().or(z.ipv6()),
      externalIp: z.string().min(1).optional(),
      relayMinPort: port,
      relayMaxPort: port,
      userQuota: z.number().int().min(0).max(10_000),
      totalQuota: z.number().int().min(0).max(1_000_000),
      /** Start coturn with the server (`npm start`) and stop it with the server. */
      managed: z.boolean(),
    }),
    cluster: z.object({
      /** Redis shared by the nodes of a cluster. Unset: a single node, no Redis at all. */
      redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL').optional(),
      /** This node's name in the cluster (default: host name and HTTP port). */
      nodeId: z.string().regex(/^[\w.:-]{1,64}$/).optional(),
      /** The WebSocket URL clients use to reach this node (default: ws(s)://<http host>:<port>/ws). */
      publicWsUrl: z.url({ protocol: /^wss?$/ }).optional(),
      /** How often the node writes its record (load, rooms) to Redis. */
      heartbeatMs: z.number().int().min(200).max(60_000),
      /** A node whose record is older than this is dead: its rooms may be claimed by others. */
      nodeTtlMs: z.number().int().min(500).max(300_000),
      /** A room's claim expires this long after its origin last refreshed it (every third of it). */
      roomTtlMs: z.number().int().min(500).max(300_000),
      /** Prefix of every key and channel, so that several clusters may share one Redis. */
      keyPrefix: z.string().regex(/^[\w.:-]{0,32}$/),
    }),
    shutdownTimeoutMs: z.number().int().min(100).max(120_000),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.http.tlsCert) !== Boolean(c.http.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: ['http', 'tlsCert'], message: 'set both the certificate and the key, or neither' });
    }
    if (c.rtc.basePort + c.workers.count - 1 > 65535) {
      ctx.addIssue({ code: 'custom', path: ['rtc', 'basePort'], message: `base port + worker count (${c.workers.count}) exceeds 65535` });
    }
    const t = c.turn;
    if (t.relayMinPort > t.relayMaxPort) {
      ctx.addIssue({ code: 'custom', path: ['turn', 'relayMinPort'], message: 'relay port range is empty (min > max)' });
    }
    const rtcLast = c.rtc.basePort + c.workers.count - 1;
    if (t.relayMinPort <= rtcLast && c.rtc.basePort <= t.relayMaxPort) {
      ctx.addIssue({ code: 'custom', path: ['turn', 'relayMinPort'], message: `TURN relay ports ${t.relayMinPort}-${t.relayMaxPort} overlap the SFU's RTC ports ${c.rtc.basePort}-${rtcLast}` });
    }
    if ((t.port >= t.relayMinPort && t.port <= t.relayMaxPort) || (t.port >= c.rtc.basePort && t.port <= rtcLast)) {
      ctx.addIssue({ code: 'custom', path: ['turn', 'port'], message: 'TURN port lies inside the relay or RTC port range' });
    }
    if (t.tlsPort !== undefined && (!t.tlsCert || !t.tlsKey)) {
      ctx.addIssue({ code: 'custom', path: ['turn', 'tlsPort'], message: 'TURN over TLS needs SFU_TURN_TLS_CERT and SFU_TURN_TLS_KEY' });
    }
    if (t.managed && !t.secret) {
      ctx.addIssue({ code: 'custom', path: ['turn', 'managed'], message: 'starting coturn needs SFU_TURN_SECRET' });
    }
    const r = c.recording;
    if (r.maxPort - r.minPort < 3) {
      ctx.addIssue({ code: 'custom', path: ['recording', 'minPort'], message: 'recording port range needs at least 4 ports' });
    }
    const overlaps = (a1: number, a2: number, b1: number, b2: number) => a1 <= b2 && b1 <= a2;
    if (overlaps(r.minPort, r.maxPort, c.rtc.basePort, rtcLast) || overlaps(r.minPort, r.maxPort, t.relayMinPort, t.relayMaxPort)) {
      ctx.addIssue({ code: 'custom', path: ['recording', 'minPort'], message: 'recording ports overlap the RTC or TURN relay ports' });
    }
    const { internalMinPort: i1, internalMaxPort: i2 } = c.rtc;
    if (i2 - i1 < 15) {
      ctx.addIssue({ code: 'custom', path: ['rtc', 'internalMinPort'], message: 'the internal port range needs at least 16 ports' });
    } else if (overlaps(i1, i2, c.rtc.basePort, rtcLast) || overlaps(i1, i2, t.relayMinPort, t.relayMaxPort) || overlaps(i1, i2, r.minPort, r.maxPort)) {
      ctx.addIssue({ code: 'custom', path: ['rtc', 'internalMinPort'], message: 'the internal ports overlap the RTC, TURN relay or recording ports' });
    }
    const q = c.quality;
    if (q.fairRttMs > q.poorRttMs || q.fairLossPct > q.poorLossPct || q.fairLimitedPct > q.poorLimitedPct) {
      ctx.addIssue({ code: 'custom', path: ['quality', 'fairRttMs'], message: 'the fair thresholds must not exceed the poor ones' });
    }
    const cl = c.cluster;
    if (cl.redisUrl) {
      // Tokens are signed once and checked by whichever node a client reaches: one secret for all.
      if (!c.auth.jwtSecret) ctx.addIssue({ code: 'custom', path: ['auth', 'jwtSecret'], message: 'required with SFU_REDIS_URL: every node of a cluster must check the same tokens' });
      if (cl.nodeTtlMs < 2 * cl.heartbeatMs) {
        ctx.addIssue({ code: 'custom', path: ['cluster', 'nodeTtlMs'], message: 'must be at least twice SFU_CLUSTER_HEARTBEAT_MS, or a live node looks dead between two heartbeats' });
      }
      if (!cl.publicWsUrl && (c.http.host === '0.0.0.0' || c.http.host === '::')) {
        ctx.addIssue({ code: 'custom', path: ['cluster', 'publicWsUrl'], message: 'required with SFU_REDIS_URL when SFU_HTTP_HOST is 0.0.0.0 or ::: the URL other nodes send clients to' });
      }
    }
    const unspecified = c.rtc.listenIp === '0.0.0.0' || c.rtc.listenIp === '::';
    if (unspecified && !c.rtc.announcedAddress) {
      ctx.addIssue({ code: 'custom', path: ['rtc', 'announcedAddress'], message: 'required when the RTC listen IP is 0.0.0.0 or ::, or browsers get an unusable candidate' });
    }
  });

export type Config = z.infer<typeof configSchema>;

export const defaultConfig: Config = {
  // Loopback by default: a development server is not exposed until someone says so.
  http: { host: '127.0.0.1', port: 3000, headersTimeoutMs: 10_000 },
  rtc: { listenIp: '127.0.0.1', basePort: 40000, internalMinPort: 47000, internalMaxPort: 47999 },
  workers: { count: os.availableParallelism(), logLevel: 'warn', loadSampleMs: 2000, maxCpu: 0.9 },
  log: { level: 'info' },
  auth: { devTokenTtlSec: 3600 },
  signaling: {
    allowedOrigins: [],
    maxMessageBytes: 64 * 1024,
    heartbeatMs: 10_000,
    joinTimeoutMs: 10_000,
    resumeGraceMs: 30_000,
    rateLimitPerSec: 50,
    rateLimitBurst: 100,
  },
  rooms: {
    maxPeers: 100,
    maxPublishers: 50,
    // About 40 % of one core at a class's typical ~50 packets/s per consumer (BENCHMARKS.md: ~100k/s per worker).
    routerMaxConsumers: 800,
    removeBanSec: 600,
    joinMuted: true,
    studentsMayUnmute: true,
    maxScreenShares: 1,
    chatHistory: 50,
    chatMaxLength: 1000,
    chatRatePerSec: 1,
    chatBurst: 5,
  },
  quality: { intervalMs: 2000, poorRttMs: 300, poorLossPct: 5, fairRttMs: 150, fairLossPct: 2, poorLimitedPct: 50, fairLimitedPct: 20, recoverSamples: 3 },
  recording: { dir: 'recordings', ffmpegPath: 'ffmpeg', minPort: 46000, maxPort: 46999 },
  turn: {
    port: 3478,
    realm: 'classroom-sfu',
    credentialTtlSec: 3600,
    listenIp: '127.0.0.1',
    relayMinPort: 49160,
    relayMaxPort: 49999,
    userQuota: 12,
    totalQuota: 1200,
    managed: false,
  },
  cluster: { heartbeatMs: 2000, nodeTtlMs: 6000, roomTtlMs: 10_000, keyPrefix: 'sfu:' },
  shutdownTimeoutMs: 10_000,
};

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';
export interface EnvVar {
  name: string;
  path: readonly string[];
  kind: Kind;
  allowed: string;
}

/** Environment variable → config field. `allowed` is what the error message tells the user. */
export const envVars: readonly EnvVar[] = [
  { name: 'SFU_HTTP_HOST', path: ['http', 'host'], kind: 'string', allowed: 'an address to bind, e.g. 0.0.0.0' },
  { name: 'SFU_HTTP_PORT', path: ['http', 'port'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_TLS_CERT', path: ['http', 'tlsCert'], kind: 'string', allowed: 'a readable PEM certificate file (with SFU_TLS_KEY)' },
  { name: 'SFU_TLS_KEY', path: ['http', 'tlsKey'], kind: 'string', allowed: 'a readable PEM key file (with SFU_TLS_CERT)' },
  { name: 'SFU_HTTP_HEADERS_TIMEOUT_MS', path: ['http', 'headersTimeoutMs'], kind: 'int', allowed: 'an integer from 500 to 120000' },
  { name: 'SFU_RTC_LISTEN_IP', path: ['rtc', 'listenIp'], kind: 'string', allowed: 'an IPv4 or IPv6 address' },
  { name: 'SFU_ANNOUNCED_ADDRESS', path: ['rtc', 'announcedAddress'], kind: 'string', allowed: 'the public IP or host name clients reach' },
  { name: 'SFU_RTC_BASE_PORT', path: ['rtc', 'basePort'], kind: 'int', allowed: 'an integer from 1 to 65535 (worker i uses base + i)' },
  { name: 'SFU_RTC_INTERNAL_MIN_PORT', path: ['rtc', 'internalMinPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_RTC_INTERNAL_MAX_PORT', path: ['rtc', 'internalMaxPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_WORKERS', path: ['workers', 'count'], kind: 'int', allowed: 'an integer from 1 to 256 (default: number of cores)' },
  { name: 'SFU_WORKER_LOG_LEVEL', path: ['workers', 'logLevel'], kind: 'string', allowed: 'debug, warn, error or none' },
  { name: 'SFU_WORKER_LOAD_SAMPLE_MS', path: ['workers', 'loadSampleMs'], kind: 'int', allowed: 'an integer from 100 to 60000' },
  { name: 'SFU_WORKER_MAX_CPU', path: ['workers', 'maxCpu'], kind: 'number', allowed: 'a number from 0.01 to 1 (1: never refuse)' },
  { name: 'SFU_LOG_LEVEL', path: ['log', 'level'], kind: 'string', allowed: 'trace, debug, info, warn, error, fatal or silent' },
  { name: 'SFU_JWT_SECRET', path: ['auth', 'jwtSecret'], kind: 'string', allowed: 'a secret of at least 32 characters' },
  { name: 'SFU_DEV_TOKENS', path: ['auth', 'devTokens'], kind: 'bool', allowed: 'true or false' },
  { name: 'SFU_DEV_TOKEN_TTL_SEC', path: ['auth', 'devTokenTtlSec'], kind: 'int', allowed: 'an integer from 60 to 86400' },
  { name: 'SFU_ALLOWED_ORIGINS', path: ['signaling', 'allowedOrigins'], kind: 'list', allowed: 'comma-separated origins like https://school.example' },
  { name: 'SFU_MAX_MESSAGE_BYTES', path: ['signaling', 'maxMessageBytes'], kind: 'int', allowed: 'an integer from 1024 to 16777216' },
  { name: 'SFU_HEARTBEAT_MS', path: ['signaling', 'heartbeatMs'], kind: 'int', allowed: 'an integer from 1000 to 300000' },
  { name: 'SFU_JOIN_TIMEOUT_MS', path: ['signaling', 'joinTimeoutMs'], kind: 'int', allowed: 'an integer from 500 to 300000' },
  { name: 'SFU_RESUME_GRACE_MS', path: ['signaling', 'resumeGraceMs'], kind: 'int', allowed: 'an integer from 0 to 600000' },
  { name: 'SFU_RATE_LIMIT_PER_SEC', path: ['signaling', 'rateLimitPerSec'], kind: 'int', allowed: 'an integer from 1 to 100000' },
  { name: 'SFU_RATE_LIMIT_BURST', path: ['signaling', 'rateLimitBurst'], kind: 'int', allowed: 'an integer from 1 to 100000' },
  { name: 'SFU_ROOM_MAX_PEERS', path: ['rooms', 'maxPeers'], kind: 'int', allowed: 'an integer from 1 to 10000' },
  { name: 'SFU_ROOM_MAX_PUBLISHERS', path: ['rooms', 'maxPublishers'], kind: 'int', allowed: 'an integer from 1 to 10000' },
  { name: 'SFU_ROOM_ROUTER_MAX_CONSUMERS', path: ['rooms', 'routerMaxConsumers'], kind: 'int', allowed: 'an integer from 1 to 1000000' },
  { name: 'SFU_REMOVE_BAN_SEC', path: ['rooms', 'removeBanSec'], kind: 'int', allowed: 'an integer from 0 to 604800' },
  { name: 'SFU_STUDENTS_JOIN_MUTED', path: ['rooms', 'joinMuted'], kind: 'bool', allowed: 'true or false' },
  { name: 'SFU_STUDENTS_MAY_UNMUTE', path: ['rooms', 'studentsMayUnmute'], kind: 'bool', allowed: 'true or false' },
  { name: 'SFU_MAX_SCREEN_SHARES', path: ['rooms', 'maxScreenShares'], kind: 'int', allowed: 'an integer from 1 to 16' },
  { name: 'SFU_CHAT_HISTORY', path: ['rooms', 'chatHistory'], kind: 'int', allowed: 'an integer from 0 to 1000' },
  { name: 'SFU_CHAT_MAX_LENGTH', path: ['rooms', 'chatMaxLength'], kind: 'int', allowed: 'an integer from 1 to 4000' },
  { name: 'SFU_CHAT_RATE_PER_SEC', path: ['rooms', 'chatRatePerSec'], kind: 'number', allowed: 'a number from 0.01 to 100' },
  { name: 'SFU_CHAT_BURST', path: ['rooms', 'chatBurst'], kind: 'int', allowed: 'an integer from 1 to 1000' },
  { name: 'SFU_QUALITY_INTERVAL_MS', path: ['quality', 'intervalMs'], kind: 'int', allowed: 'an integer from 500 to 60000' },
  { name: 'SFU_QUALITY_POOR_RTT_MS', path: ['quality', 'poorRttMs'], kind: 'int', allowed: 'an integer from 1 to 60000' },
  { name: 'SFU_QUALITY_POOR_LOSS_PCT', path: ['quality', 'poorLossPct'], kind: 'number', allowed: 'a number from 0 to 100' },
  { name: 'SFU_QUALITY_FAIR_RTT_MS', path: ['quality', 'fairRttMs'], kind: 'int', allowed: 'an integer from 1 to 60000' },
  { name: 'SFU_QUALITY_FAIR_LOSS_PCT', path: ['quality', 'fairLossPct'], kind: 'number', allowed: 'a number from 0 to 100' },
  { name: 'SFU_QUALITY_POOR_LIMITED_PCT', path: ['quality', 'poorLimitedPct'], kind: 'number', allowed: 'a number from 0 to 100' },
  { name: 'SFU_QUALITY_FAIR_LIMITED_PCT', path: ['quality', 'fairLimitedPct'], kind: 'number', allowed: 'a number from 0 to 100' },
  { name: 'SFU_QUALITY_RECOVER_SAMPLES', path: ['quality', 'recoverSamples'], kind: 'int', allowed: 'an integer from 1 to 100' },
  { name: 'SFU_RECORDINGS_DIR', path: ['recording', 'dir'], kind: 'string', allowed: 'a directory the server may write to' },
  { name: 'SFU_FFMPEG_PATH', path: ['recording', 'ffmpegPath'], kind: 'string', allowed: 'the ffmpeg executable' },
  { name: 'SFU_RECORDING_MIN_PORT', path: ['recording', 'minPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_RECORDING_MAX_PORT', path: ['recording', 'maxPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_TURN_SECRET', path: ['turn', 'secret'], kind: 'string', allowed: 'a secret of at least 16 characters, the same as coturn\'s static-auth-secret' },
  { name: 'SFU_TURN_HOST', path: ['turn', 'host'], kind: 'string', allowed: 'the host name or IP clients reach coturn at' },
  { name: 'SFU_TURN_PORT', path: ['turn', 'port'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_TURN_TLS_PORT', path: ['turn', 'tlsPort'], kind: 'int', allowed: 'an integer from 1 to 65535 (5349, or 443 for strict firewalls)' },
  { name: 'SFU_TURN_TLS_CERT', path: ['turn', 'tlsCert'], kind: 'string', allowed: 'a PEM certificate file for coturn' },
  { name: 'SFU_TURN_TLS_KEY', path: ['turn', 'tlsKey'], kind: 'string', allowed: 'a PEM key file for coturn' },
  { name: 'SFU_TURN_REALM', path: ['turn', 'realm'], kind: 'string', allowed: 'letters, digits, _ . -' },
  { name: 'SFU_TURN_CREDENTIAL_TTL_SEC', path: ['turn', 'credentialTtlSec'], kind: 'int', allowed: 'an integer from 60 to 604800' },
  { name: 'SFU_TURN_LISTEN_IP', path: ['turn', 'listenIp'], kind: 'string', allowed: 'an IPv4 or IPv6 address' },
  { name: 'SFU_TURN_EXTERNAL_IP', path: ['turn', 'externalIp'], kind: 'string', allowed: 'the public IP of coturn behind NAT' },
  { name: 'SFU_TURN_RELAY_MIN_PORT', path: ['turn', 'relayMinPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_TURN_RELAY_MAX_PORT', path: ['turn', 'relayMaxPort'], kind: 'int', allowed: 'an integer from 1 to 65535' },
  { name: 'SFU_TURN_USER_QUOTA', path: ['turn', 'userQuota'], kind: 'int', allowed: 'an integer from 0 to 10000 (allocations per user)' },
  { name: 'SFU_TURN_TOTAL_QUOTA', path: ['turn', 'totalQuota'], kind: 'int', allowed: 'an integer from 0 to 1000000 (allocations in all)' },
  { name: 'SFU_TURN_MANAGED', path: ['turn', 'managed'], kind: 'bool', allowed: 'true or false' },
  { name: 'SFU_REDIS_URL', path: ['cluster', 'redisUrl'], kind: 'string', allowed: 'a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379' },
  { name: 'SFU_NODE_ID', path: ['cluster', 'nodeId'], kind: 'string', allowed: '1 to 64 letters, digits, _ . : -' },
  { name: 'SFU_PUBLIC_WS_URL', path: ['cluster', 'publicWsUrl'], kind: 'string', allowed: 'a ws:// or wss:// URL clients reach this node at, e.g. wss://sfu2.school.example/ws' },
  { name: 'SFU_CLUSTER_HEARTBEAT_MS', path: ['cluster', 'heartbeatMs'], kind: 'int', allowed: 'an integer from 200 to 60000' },
  { name: 'SFU_CLUSTER_NODE_TTL_MS', path: ['cluster', 'nodeTtlMs'], kind: 'int', allowed: 'an integer from 500 to 300000' },
  { name: 'SFU_CLUSTER_ROOM_TTL_MS', path: ['cluster', 'roomTtlMs'], kind: 'int', allowed: 'an integer from 500 to 300000' },
  { name: 'SFU_REDIS_KEY_PREFIX', path: ['cluster', 'keyPrefix'], kind: 'string', allowed: 'up to 32 letters, digits, _ . : -' },
  { name: 'SFU_SHUTDOWN_TIMEOUT_MS', path: ['shutdownTimeoutMs'], kind: 'int', allowed: 'an integer from 100 to 120000' },
];
