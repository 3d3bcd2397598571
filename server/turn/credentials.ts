import { createHmac } from 'node:crypto';
import { urlHost } from '../util/hosts.js';

export interface TurnSettings {
  secret?: string | undefined;
  host: string;
  port: number;
  tlsPort?: number | undefined;
  credentialTtlSec: number;
}

export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * Short-lived TURN credentials in coturn's REST API scheme (use-auth-secret): the username carries
 * its own expiry, the password is an HMAC of it, so coturn checks them without a database and
 * nothing issued can be reused after it expires. The secret itself never leaves the server.
 */
export function turnCredentials(secret: string, userId: string, ttlSec: number, now = Date.now()): { username: string; credential: string } {
  const expiry = Math.floor(now / 1000) + ttlSec;
  // ':' separates the expiry from the user in coturn's parsing: keep it out of the user part.
  const username = `${expiry}:${userId.replace(/:/g, '_')}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/** The ICE servers handed to one peer: TURN over UDP and TCP, and TLS when configured. None without a secret. */
export function iceServersFor(turn: TurnSettings, userId: string, now = Date.now()): IceServer[] {
  if (!turn.secret) return [];
  const host = urlHost(turn.host);
  const urls = [`turn:${host}:${turn.port}?transport=udp`, `turn:${host}:${turn.port}?transport=tcp`];
  if (turn.tlsPort) urls.push(`turns:${host}:${turn.tlsPort}?transport=tcp`);
  return [{ urls, ...turnCredentials(turn.secret, userId, turn.credentialTtlSec, now) }];
}
