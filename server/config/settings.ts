import os from 'node:os';
import { z } from 'zod';
import { setting } from './declare.js';

/**
 * The settings. Each is declared once, here: its type and bounds, the
 * environment variable that overrides it and its safe development default. The variable table,
 * the embedded default config and the error messages derive from these declarations; the README's
 * table and config/sfu.env.example are checked against them (test/unit/config.test.ts).
 */
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);
const port = int(1, 65535);
const ip = z.ipv4().or(z.ipv6());
const text = z.string().min(1);
const ipAllowed = 'an IPv4 or IPv6 address';

/** Every setting, grouped as the server reads them; cross-field rules are in rules.ts. */
export const settingsSchema = z.object({
  http: z.object({
    host: setting(text, { env: 'SFU_HTTP_HOST', default: '127.0.0.1', allowed: 'an address to bind, e.g. 0.0.0.0' }),
    port: setting(port, { env: 'SFU_HTTP_PORT', default: 3000 }),
    /** Both or neither: HTTPS/WSS when set (browsers need a secure context beyond localhost). */
    tlsCert: setting(text.optional(), { env: 'SFU_TLS_CERT', file: true, allowed: 'a readable PEM certificate file (with SFU_TLS_KEY)' }),
    tlsKey: setting(text.optional(), { env: 'SFU_TLS_KEY', file: true, allowed: 'a readable PEM key file (with SFU_TLS_CERT)' }),
    headersTimeoutMs: setting(int(500, 120_000), { env: 'SFU_HTTP_HEADERS_TIMEOUT_MS', default: 10_000 }),
  }),
  metrics: z.object({
    /** GET /metrics needs `Authorization: Bearer <this>` when set (unset: open, like /healthz). */
    token: setting(z.string().min(16).optional(), { env: 'SFU_METRICS_TOKEN', secret: true, allowed: 'a token of at least 16 characters' }),
    /** Scrapes within this long of the last collection get its result (every collection asks every worker). */
    cacheMs: setting(int(0, 60_000), { env: 'SFU_METRICS_CACHE_MS', default: 5000 }),
  }),
  demo: z.object({
    /** The demo page joins (and publishes) by itself from a link's ?autojoin=1; otherwise it waits for a click. */
    autojoin: setting(z.boolean(), { env: 'SFU_DEMO_AUTOJOIN', default: false }),
  }),
  rtc: z.object({
    /** Local address the workers' WebRtcServers bind to. */
    listenIp: setting(ip, { env: 'SFU_RTC_LISTEN_IP', default: '127.0.0.1', allowed: ipAllowed }),
    /** Address put in ICE candidates, for a server behind NAT or bound to 0.0.0.0. */
    announcedAddress: setting(text.optional(), { env: 'SFU_ANNOUNCED_ADDRESS', allowed: 'the public IP or host name clients reach' }),
    /** Worker i listens on UDP and TCP port basePort + i. */
    basePort: setting(port, { env: 'SFU_RTC_BASE_PORT', default: 40000, note: '(worker i uses base + i)' }),
    /**
     * Ports the workers bind on 127.0.0.1 only: pipes between a room's routers and the
     * recording transports. Never exposed; kept away from every other range.
     */
    internalMinPort: setting(port, { env: 'SFU_RTC_INTERNAL_MIN_PORT', default: 47000 }),
    internalMaxPort: setting(port, { env: 'SFU_RTC_INTERNAL_MAX_PORT', default: 47999 }),
  }),
  workers: z.object({
    count: setting(int(1, 256), { env: 'SFU_WORKERS', default: os.availableParallelism(), computed: 'number of cores', note: '(default: number of cores)' }),
    logLevel: setting(z.enum(['debug', 'warn', 'error', 'none']), { env: 'SFU_WORKER_LOG_LEVEL', default: 'warn' }),
    /** How often each worker's CPU usage is sampled for load placement. */
    loadSampleMs: setting(int(100, 60_000), { env: 'SFU_WORKER_LOAD_SAMPLE_MS', default: 2000 }),
    /** New students and observers are refused while every worker's sampled CPU is at or above this share of a core (1: never). */
    maxCpu: setting(num(0.01, 1), { env: 'SFU_WORKER_MAX_CPU', default: 0.9, note: '(1: never refuse)' }),
  }),
  log: z.object({
    level: setting(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), { env: 'SFU_LOG_LEVEL', default: 'info' }),
  }),
  auth: z.object({
    /** HS256 secret for access tokens. Unset: a random one per process (development only). */
    jwtSecret: setting(z.string().min(32).optional(), { env: 'SFU_JWT_SECRET', secret: true, allowed: 'a secret of at least 32 characters' }),
    /**
     * POST /api/tokens issues participant tokens to anyone: on by default only while no secret is
     * set, and beyond loopback only when set to true by name (rules.ts).
     */
    devTokens: setting(z.boolean().optional(), { env: 'SFU_DEV_TOKENS' }),
    devTokenTtlSec: setting(int(60, 86_400), { env: 'SFU_DEV_TOKEN_TTL_SEC', default: 3600 }),
    /** When set, a token must carry this `iss` / `aud` (a secret shared by several services cannot mint tokens for us). */
    issuer: setting(text.optional(), { env: 'SFU_JWT_ISSUER', allowed: 'the iss claim your platform puts in its tokens' }),
    audience: setting(text.optional(), { env: 'SFU_JWT_AUDIENCE', allowed: 'the aud claim your platform puts in its tokens' }),
  }),
  signaling: z.object({
    /** Extra allowed Origins; the server's own origin and localhost are always allowed. */
    allowedOrigins: setting(z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin like https://school.example')), {
      env: 'SFU_ALLOWED_ORIGINS',
      default: [],
      allowed: 'comma-separated origins like https://school.example',
    }),
    maxMessageBytes: setting(int(1024, 16 * 1024 * 1024), { env: 'SFU_MAX_MESSAGE_BYTES', default: 64 * 1024 }),
    heartbeatMs: setting(int(1000, 300_000), { env: 'SFU_HEARTBEAT_MS', default: 10_000 }),
    joinTimeoutMs: setting(int(500, 300_000), { env: 'SFU_JOIN_TIMEOUT_MS', default: 10_000 }),
    resumeGraceMs: setting(int(0, 600_000), { env: 'SFU_RESUME_GRACE_MS', default: 30_000 }),
    rateLimitPerSec: setting(int(1, 100_000), { env: 'SFU_RATE_LIMIT_PER_SEC', default: 50 }),
    rateLimitBurst: setting(int(1, 100_000), { env: 'SFU_RATE_LIMIT_BURST', default: 100 }),
    /**
     * Open WebSockets per client address (0: no limit). Generous: a whole school often shares one
     * NAT address, and behind a reverse proxy every client has the proxy's (see trustedProxies).
     */
    maxConnectionsPerIp: setting(int(0, 1_000_000), { env: 'SFU_MAX_CONNECTIONS_PER_IP', default: 500, note: '(0: no limit)' }),
    /** Reverse proxies whose X-Forwarded-For names the client's address (for the limit above). */
    trustedProxies: setting(z.array(ip), { env: 'SFU_TRUSTED_PROXIES', default: [], allowed: 'comma-separated IPv4 or IPv6 addresses of your reverse proxies' }),
  }),
  rooms: z.object({
    /** Participants per room; teachers are let in beyond it. */
    maxPeers: setting(int(1, 10_000), { env: 'SFU_ROOM_MAX_PEERS', default: 100 }),
    /**
     * Participants on this node, all rooms together, teachers included (a teacher passes a room's
     * limits, not this one). 5,000 idle peers took ~180 MiB (BENCHMARKS.md); raise it on a big server.
     */
    nodeMaxPeers: setting(int(1, 1_000_000), { env: 'SFU_MAX_PEERS', default: 5000 }),
    /** Peers publishing at least one source per room; teachers are let publish beyond it. */
    maxPublishers: setting(int(1, 10_000), { env: 'SFU_ROOM_MAX_PUBLISHERS', default: 50 }),
    /**
     * Consumers one router of a room should carry before new participants go to a router on
     * another worker (the room's producers are piped there). About 40 % of one core at a class's
     * typical ~50 packets/s per consumer (BENCHMARKS.md: ~100k/s per worker).
     */
    routerMaxConsumers: setting(int(1, 1_000_000), { env: 'SFU_ROOM_ROUTER_MAX_CONSUMERS', default: 800 }),
    /** A peer the teacher removed may not rejoin the room with the same user id for this long. */
    removeBanSec: setting(int(0, 7 * 86_400), { env: 'SFU_REMOVE_BAN_SEC', default: 600 }),
    /** The room policy a new room starts with (the teacher may change it). */
    joinMuted: setting(z.boolean(), { env: 'SFU_STUDENTS_JOIN_MUTED', default: true }),
    studentsMayUnmute: setting(z.boolean(), { env: 'SFU_STUDENTS_MAY_UNMUTE', default: true }),
    maxScreenShares: setting(int(1, 16), { env: 'SFU_MAX_SCREEN_SHARES', default: 1 }),
    /**
     * The class's video limits a new room starts with (the teacher may change them): the most
     * remote videos a student or observer receives at once (teachers' cameras and screen shares
     * do not count), and the most students sending a camera at once.
     */
    maxVideosPerStudent: setting(int(1, 100), { env: 'SFU_ROOM_MAX_VIDEOS_PER_STUDENT', default: 12 }),
    maxStudentCameras: setting(int(0, 1000), { env: 'SFU_ROOM_MAX_STUDENT_CAMERAS', default: 50 }),
    /** Chat: messages kept for late joiners, longest message, and per-peer rate. */
    chatHistory: setting(int(0, 1000), { env: 'SFU_CHAT_HISTORY', default: 50 }),
    chatMaxLength: setting(int(1, 4000), { env: 'SFU_CHAT_MAX_LENGTH', default: 1000 }),
    chatRatePerSec: setting(num(0.01, 100), { env: 'SFU_CHAT_RATE_PER_SEC', default: 1 }),
    chatBurst: setting(int(1, 1000), { env: 'SFU_CHAT_BURST', default: 5 }),
  }),
  quality: z.object({
    /** How often each peer's stats are sampled and its quality levels computed. */
    intervalMs: setting(int(500, 60_000), { env: 'SFU_QUALITY_INTERVAL_MS', default: 2000 }),
    /** poor beyond these (either), fair beyond the fair ones, else good. */
    poorRttMs: setting(int(1, 60_000), { env: 'SFU_QUALITY_POOR_RTT_MS', default: 300 }),
    poorLossPct: setting(num(0, 100), { env: 'SFU_QUALITY_POOR_LOSS_PCT', default: 5 }),
    fairRttMs: setting(int(1, 60_000), { env: 'SFU_QUALITY_FAIR_RTT_MS', default: 150 }),
    fairLossPct: setting(num(0, 100), { env: 'SFU_QUALITY_FAIR_LOSS_PCT', default: 2 }),
    /**
     * A browser adapts its sending to a narrow uplink at once, so loss and delay stay low: the
     * share of time its encoder reports being held back by bandwidth says more.
     */
    poorLimitedPct: setting(num(0, 100), { env: 'SFU_QUALITY_POOR_LIMITED_PCT', default: 50 }),
    fairLimitedPct: setting(num(0, 100), { env: 'SFU_QUALITY_FAIR_LIMITED_PCT', default: 20 }),
    /** Good samples in a row before a downlink's reduced video layers are raised again. */
    recoverSamples: setting(int(1, 100), { env: 'SFU_QUALITY_RECOVER_SAMPLES', default: 3 }),
  }),
  recording: z.object({
    /** Where recordings go: one folder per recording, with recording.json and the files. */
    dir: setting(text, { env: 'SFU_RECORDINGS_DIR', default: 'recordings', allowed: 'a directory the server may write to' }),
    ffmpegPath: setting(text, { env: 'SFU_FFMPEG_PATH', default: 'ffmpeg', allowed: 'the ffmpeg executable' }),
    /** Local UDP ports ffmpeg listens on for the RTP it records (a pair per stream). */
    minPort: setting(port, { env: 'SFU_RECORDING_MIN_PORT', default: 46000 }),
    maxPort: setting(port, { env: 'SFU_RECORDING_MAX_PORT', default: 46999 }),
    /** ffmpeg processes at once over every recording (one per participant's file being written). */
    maxFfmpeg: setting(int(1, 10_000), { env: 'SFU_RECORDING_MAX_FFMPEG', default: 200 }),
    /** Files one participant may get in one recording: re-publishing in a loop cannot start ffmpeg after ffmpeg. */
    maxSessionsPerPeer: setting(int(1, 1000), { env: 'SFU_RECORDING_MAX_SESSIONS_PER_PEER', default: 20 }),
    /** A recording is refused (`unavailable`) when the recordings folder's disk has less free space. */
    minFreeMb: setting(int(0, 100_000_000), { env: 'SFU_RECORDING_MIN_FREE_MB', default: 1024 }),
  }),
  turn: z.object({
    /** Shared with coturn (use-auth-secret). Unset: no TURN servers are handed out. Never sent, never logged. */
    secret: setting(z.string().min(16).optional(), {
      env: 'SFU_TURN_SECRET',
      secret: true,
      allowed: "a secret of at least 16 characters, the same as coturn's static-auth-secret",
    }),
    /** Host name or IP clients reach coturn at. Default: the announced address, else the listen IP. */
    host: setting(text.optional(), { env: 'SFU_TURN_HOST', allowed: 'the host name or IP clients reach coturn at' }),
    port: setting(port, { env: 'SFU_TURN_PORT', default: 3478 }),
    /** TURN over TLS (for firewalls that pass only HTTPS: 443); needs tlsCert and tlsKey for coturn. */
    tlsPort: setting(port.optional(), { env: 'SFU_TURN_TLS_PORT', note: '(5349, or 443 for strict firewalls)' }),
    tlsCert: setting(text.optional(), { env: 'SFU_TURN_TLS_CERT', file: true, allowed: 'a PEM certificate file for coturn' }),
    tlsKey: setting(text.optional(), { env: 'SFU_TURN_TLS_KEY', file: true, allowed: 'a PEM key file for coturn' }),
    realm: setting(text.regex(/^[\w.-]+$/), { env: 'SFU_TURN_REALM', default: 'classroom-sfu', allowed: 'letters, digits, _ . -' }),
    /**
     * How long a TURN credential may start new relay sessions; a leaked one is good for this long.
     * At most a day: coturn checks it only when a client first authenticates.
     */
    credentialTtlSec: setting(int(60, 86_400), { env: 'SFU_TURN_CREDENTIAL_TTL_SEC', default: 3600 }),
    /** Address coturn binds, and the public address it announces when behind NAT. */
    listenIp: setting(ip, { env: 'SFU_TURN_LISTEN_IP', default: '127.0.0.1', allowed: ipAllowed }),
    externalIp: setting(text.optional(), { env: 'SFU_TURN_EXTERNAL_IP', allowed: 'the public IP of coturn behind NAT' }),
    relayMinPort: setting(port, { env: 'SFU_TURN_RELAY_MIN_PORT', default: 49160 }),
    relayMaxPort: setting(port, { env: 'SFU_TURN_RELAY_MAX_PORT', default: 49999 }),
    userQuota: setting(int(0, 10_000), { env: 'SFU_TURN_USER_QUOTA', default: 12, note: '(allocations per user)' }),
    totalQuota: setting(int(0, 1_000_000), { env: 'SFU_TURN_TOTAL_QUOTA', default: 1200, note: '(allocations in all)' }),
    /** Start coturn with the server (`npm start`) and stop it with the server. */
    managed: setting(z.boolean(), { env: 'SFU_TURN_MANAGED', default: false }),
  }),
  cluster: z.object({
    /** Redis shared by the nodes of a cluster. Unset: a single node, no Redis at all. */
    redisUrl: setting(z.string().regex(/^rediss?:\/\/\S+$/, 'a redis:// or rediss:// URL').optional(), {
      env: 'SFU_REDIS_URL',
      secret: true,
      allowed: 'a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379',
    }),
    /** This node's name in the cluster (default: host name and HTTP port). */
    nodeId: setting(z.string().regex(/^[\w.:-]{1,64}$/).optional(), { env: 'SFU_NODE_ID', allowed: '1 to 64 letters, digits, _ . : -' }),
    /** The WebSocket URL clients use to reach this node (default: ws(s)://<http host>:<port>/ws). */
    publicWsUrl: setting(z.url({ protocol: /^wss?$/ }).optional(), {
      env: 'SFU_PUBLIC_WS_URL',
      allowed: 'a ws:// or wss:// URL clients reach this node at, e.g. wss://sfu2.school.example/ws',
    }),
    /** How often the node writes its record (load, rooms) to Redis. */
    heartbeatMs: setting(int(200, 60_000), { env: 'SFU_CLUSTER_HEARTBEAT_MS', default: 2000 }),
    /** A node whose record is older than this is dead: its rooms may be claimed by others. */
    nodeTtlMs: setting(int(500, 300_000), { env: 'SFU_CLUSTER_NODE_TTL_MS', default: 6000 }),
    /** A room's claim expires this long after its origin last refreshed it (every third of it). */
    roomTtlMs: setting(int(500, 300_000), { env: 'SFU_CLUSTER_ROOM_TTL_MS', default: 10_000 }),
    /** Prefix of every key and channel, so that several clusters may share one Redis. */
    keyPrefix: setting(z.string().regex(/^[\w.:-]{0,32}$/), { env: 'SFU_REDIS_KEY_PREFIX', default: 'sfu:', allowed: 'up to 32 letters, digits, _ . : -' }),
  }),
  shutdownTimeoutMs: setting(int(100, 120_000), { env: 'SFU_SHUTDOWN_TIMEOUT_MS', default: 10_000 }),
});

export type Config = z.infer<typeof settingsSchema>;
