import type { z } from 'zod';
import { isLoopbackHost } from '../util/hosts.js';
import type { Config } from './settings.js';

const overlaps = (a1: number, a2: number, b1: number, b2: number) => a1 <= b2 && b1 <= a2;

/**
 * What no single setting's bounds can say: settings that must agree with each other (both TLS
 * files or neither, port ranges that must not overlap, what a cluster needs).
 */
export function checkConfig(c: Config, ctx: z.RefinementCtx): void {
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
  // Without a secret, tokens come from POST /api/tokens, which gives any role to anyone: only for a
  // server nobody else can reach, unless someone asks for it by name (a LAN trial).
  if (!c.auth.jwtSecret && c.auth.devTokens !== true && !isLoopbackHost(c.http.host)) {
    ctx.addIssue({
      code: 'custom',
      path: ['auth', 'jwtSecret'],
      message: `required when SFU_HTTP_HOST (${c.http.host}) is not a loopback address: without it anyone who reaches the server can get tokens (POST /api/tokens). Set SFU_JWT_SECRET (your platform signs the tokens), or SFU_DEV_TOKENS=true for a trial on a network you trust`,
    });
  }
  const unspecified = c.rtc.listenIp === '0.0.0.0' || c.rtc.listenIp === '::';
  if (unspecified && !c.rtc.announcedAddress) {
    ctx.addIssue({ code: 'custom', path: ['rtc', 'announcedAddress'], message: 'required when the RTC listen IP is 0.0.0.0 or ::, or browsers get an unusable candidate' });
  }
}
