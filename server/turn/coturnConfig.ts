import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../config/schema.js';

/** config/ at the project root, found from here whether running from server/ or from dist/server/. */
function templatePath(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'config', 'turnserver.conf.template');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('config/turnserver.conf.template not found above ' + import.meta.dirname);
}

/** Ranges a relay must never reach: private, loopback, link-local, shared, documentation, multicast, reserved. */
export const deniedPeerRanges = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.0.0.0-192.0.0.255',
  '192.0.2.0-192.0.2.255',
  '192.88.99.0-192.88.99.255',
  '192.168.0.0-192.168.255.255',
  '198.18.0.0-198.19.255.255',
  '198.51.100.0-198.51.100.255',
  '203.0.113.0-203.0.113.255',
  '224.0.0.0-255.255.255.255',
  '::-::ffff',
  '::ffff:0.0.0.0-::ffff:255.255.255.255',
  '64:ff9b::-64:ff9b::ffff:ffff',
  '100::-100::ffff:ffff:ffff:ffff',
  '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff',
  '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

/** The SFU's own media addresses: the only peers the relay may reach. */
export function sfuPeerAddresses(config: Config): string[] {
  const out = new Set<string>();
  const { listenIp, announcedAddress } = config.rtc;
  if (announcedAddress && net.isIP(announcedAddress)) out.add(announcedAddress);
  if (listenIp !== '0.0.0.0' && listenIp !== '::') out.add(listenIp);
  return [...out];
}

/**
 * Renders config/turnserver.conf.template from the SFU's configuration. The result holds the
 * shared secret: write it only to a file that only this user can read.
 */
export function renderCoturnConfig(config: Config, opts: { pidFile?: string } = {}): string {
  const t = config.turn;
  if (!t.secret) throw new Error('SFU_TURN_SECRET is not set: coturn cannot authenticate anyone');
  const peers = sfuPeerAddresses(config);
  const values: Record<string, string | number | undefined> = {
    listenIp: t.listenIp,
    port: t.port,
    externalIp: t.externalIp,
    tlsPort: t.tlsPort,
    tlsCert: t.tlsCert,
    tlsKey: t.tlsKey,
    relayMinPort: t.relayMinPort,
    relayMaxPort: t.relayMaxPort,
    secret: t.secret,
    realm: t.realm,
    userQuota: t.userQuota,
    totalQuota: t.totalQuota,
    deniedPeerIps: deniedPeerRanges.map((r) => `denied-peer-ip=${r}`).join('\n'),
    allowedPeerIps: peers.map((ip) => `allowed-peer-ip=${ip}`).join('\n'),
    allowLoopback: peers.some((ip) => ip.startsWith('127.') || ip === '::1') ? 'yes' : undefined,
    pidFile: opts.pidFile,
  };
  let text = fs.readFileSync(templatePath(), 'utf8');
  // {{#x}}...{{/x}}: only when x is set; {{^x}}...{{/x}}: only when it is not.
  text = text.replace(/\{\{([#^])(\w+)\}\}([\s\S]*?)\{\{\/\2\}\}/g, (_m, kind: string, name: string, body: string) =>
    (values[name] !== undefined) === (kind === '#') ? body : '',
  );
  return text.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`coturn template: no value for {{${name}}}`);
    return String(v);
  });
}
