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

/**
 * Every address, IPv4 and IPv6. coturn lets a client relay to any peer that no denied-peer-ip
 * covers, so denying only the private ranges would leave the whole internet open: the relay
 * would carry anyone's traffic to any public host. Deny all, then allow the SFU's own addresses.
 */
export const allAddresses = ['0.0.0.0-255.255.255.255', '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'];

/**
 * Private, loopback, link-local, shared, documentation, multicast and reserved ranges: all inside
 * allAddresses already, and rendered after it because coturn checks denied rules from the last one
 * up and logs the first it matches, so a refusal's log line says which kind of address was tried.
 */
export const specialPurposeRanges = [
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

/** What the rendered config denies, in its order; allowed-peer-ip takes precedence over all of it. */
export const deniedPeerRanges = [...allAddresses, ...specialPurposeRanges];

/**
 * The SFU's own media addresses: the only peers the relay may reach. IPs only: coturn would
 * resolve a host name once, at start, and read one with a '-' in it as a range.
 */
export function sfuPeerAddresses(config: Config): string[] {
  const out = new Set<string>();
  const { listenIp, announcedAddress } = config.rtc;
  if (announcedAddress && net.isIP(announcedAddress)) out.add(announcedAddress);
  if (listenIp !== '0.0.0.0' && listenIp !== '::') out.add(listenIp);
  return [...out];
}

/**
 * Longest lifetime an Allocate or Refresh may ask for (coturn's default is 3600 s): an allocation its
 * client abandons frees its relay port and quota within 10 minutes. Browsers refresh well before.
 */
export const maxAllocateLifetime = 600;

/**
 * Renders config/turnserver.conf.template from the SFU's configuration. The result holds the
 * shared secret: write it only to a file that only this user can read.
 */
export function renderCoturnConfig(config: Config, opts: { pidFile?: string } = {}): string {
  const t = config.turn;
  if (!t.secret) throw new Error('SFU_TURN_SECRET is not set: coturn cannot authenticate anyone');
  const peers = sfuPeerAddresses(config);
  if (peers.length === 0) {
    // Everything is denied: such a relay would reach nothing, not even the SFU.
    throw new Error(
      `the TURN relay would reach no SFU address: SFU_RTC_LISTEN_IP is ${config.rtc.listenIp} and SFU_ANNOUNCED_ADDRESS (${config.rtc.announcedAddress ?? 'unset'}) is not an IP; ` +
        "set SFU_ANNOUNCED_ADDRESS to the SFU's public IP, or SFU_RTC_LISTEN_IP to its own address",
    );
  }
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
    // coturn refuses loopback peers before it reads any allowed-peer-ip: lift that only for a loopback SFU.
    allowLoopback: peers.some((ip) => ip.startsWith('127.') || ip === '::1') ? 'yes' : undefined,
    maxAllocateLifetime,
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
