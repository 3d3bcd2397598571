import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/load.js';
import { deniedPeerRanges, maxAllocateLifetime, renderCoturnConfig } from '../../server/turn/coturnConfig.js';
import { iceServersFor, turnCredentials } from '../../server/turn/credentials.js';
import { parsePeerRules, peerVerdict } from '../helpers/coturnPeerRules.js';

const secret = 'unit-test-turn-secret-123';

describe('TURN REST credentials', () => {
  it('username is "<expiry>:<user>" and the password its HMAC-SHA1 under the shared secret', () => {
    const now = Date.UTC(2026, 0, 1);
    const { username, credential } = turnCredentials(secret, 'user-1', 3600, now);
    expect(username).toBe(`${now / 1000 + 3600}:user-1`);
    expect(credential).toBe(createHmac('sha1', secret).update(username).digest('base64'));
  });

  it('keeps the separator out of the user part', () => {
    expect(turnCredentials(secret, 'a:b:c', 60, 0).username).toBe('60:a_b_c');
  });

  it('hands out UDP, TCP and (when configured) TLS URLs, and none without a secret', () => {
    const [server] = iceServersFor({ secret, host: 'turn.school.example', port: 3478, tlsPort: 443, credentialTtlSec: 60 }, 'u');
    expect(server!.urls).toEqual([
      'turn:turn.school.example:3478?transport=udp',
      'turn:turn.school.example:3478?transport=tcp',
      'turns:turn.school.example:443?transport=tcp',
    ]);
    expect(JSON.stringify(server)).not.toContain(secret);
    expect(iceServersFor({ host: 'h', port: 3478, credentialTtlSec: 60 }, 'u')).toEqual([]);
    expect(iceServersFor({ secret, host: '2001:db8::1', port: 3478, credentialTtlSec: 60 }, 'u')[0]!.urls[0]).toBe('turn:[2001:db8::1]:3478?transport=udp');
  });
});

describe('coturn configuration', () => {
  const production = loadConfig({ SFU_TURN_SECRET: secret, SFU_RTC_LISTEN_IP: '0.0.0.0', SFU_ANNOUNCED_ADDRESS: '198.51.100.7', SFU_TURN_LISTEN_IP: '0.0.0.0' });

  it('renders the hardening directives, the quotas and the relay range', () => {
    const text = renderCoturnConfig(production);
    for (const line of ['use-auth-secret', `static-auth-secret=${secret}`, 'realm=classroom-sfu', 'fingerprint', 'no-cli', 'no-multicast-peers', 'min-port=49160', 'max-port=49999', 'user-quota=12', 'total-quota=1200', 'no-tls']) {
      expect(text.split('\n')).toContain(line);
    }
    for (const range of deniedPeerRanges) expect(text).toContain(`denied-peer-ip=${range}`);
    expect(text).toContain('allowed-peer-ip=198.51.100.7');
    expect(text).not.toContain('allow-loopback-peers');
    expect(text).not.toMatch(/\{\{/);
  });

  it('denies every private, loopback and link-local range', () => {
    for (const r of ['10.0.0.0-10.255.255.255', '172.16.0.0-172.31.255.255', '192.168.0.0-192.168.255.255', '127.0.0.0-127.255.255.255', '169.254.0.0-169.254.255.255', 'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff']) {
      expect(deniedPeerRanges).toContain(r);
    }
  });

  it('renders no TCP relay and a capped allocation lifetime', () => {
    const lines = renderCoturnConfig(production).split('\n');
    expect(lines).toContain('no-tcp-relay');
    expect(lines).toContain(`max-allocate-lifetime=${maxAllocateLifetime}`);
    expect(maxAllocateLifetime).toBeLessThanOrEqual(600);
  });

  // Read with coturn's own rules (test/helpers/coturnPeerRules.ts): what it would relay to.
  const publicPeers = ['8.8.8.8', '1.1.1.1', '9.9.9.9', '151.101.1.69', '198.51.100.8', '2001:4860:4860::8888', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'];
  const privatePeers = ['10.0.0.5', '172.20.1.1', '192.168.1.1', '127.0.0.1', '127.0.0.2', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.251', '255.255.255.255', 'fd00::1', 'fe80::1', '::1', '::', 'ff02::1'];

  it('as coturn reads it: only the SFU\'s addresses are reachable, no public or private one', () => {
    const rules = parsePeerRules(renderCoturnConfig(production));
    expect(peerVerdict(rules, '198.51.100.7')).toBe('allowed');
    for (const peer of [...publicPeers, ...privatePeers]) expect(peerVerdict(rules, peer), peer).toBe('denied');
  });

  it('as coturn reads it: a specific listen IP and an IPv6 announced address are both reachable, nothing else', () => {
    const config = loadConfig({ SFU_TURN_SECRET: secret, SFU_RTC_LISTEN_IP: '10.1.2.3', SFU_ANNOUNCED_ADDRESS: '2001:db8::7' });
    const rules = parsePeerRules(renderCoturnConfig(config));
    expect(peerVerdict(rules, '10.1.2.3')).toBe('allowed');
    expect(peerVerdict(rules, '2001:db8::7')).toBe('allowed');
    for (const peer of [...publicPeers, ...privatePeers, '10.1.2.4', '2001:db8::8', '198.51.100.7']) expect(peerVerdict(rules, peer), peer).toBe('denied');
  });

  it('as coturn reads it: a loopback SFU in development is reachable at its own address only', () => {
    const rules = parsePeerRules(renderCoturnConfig(loadConfig({ SFU_TURN_SECRET: secret })));
    expect(rules.allowLoopback).toBe(true);
    expect(peerVerdict(rules, '127.0.0.1')).toBe('allowed');
    for (const peer of [...publicPeers, ...privatePeers.filter((p) => p !== '127.0.0.1')]) expect(peerVerdict(rules, peer), peer).toBe('denied');
  });

  it('the peer-rule reader follows coturn: allowed wins, loopback needs allow-loopback-peers, no rule means allowed', () => {
    const rules = (text: string) => parsePeerRules(text);
    expect(peerVerdict(rules('denied-peer-ip=10.0.0.0-10.255.255.255'), '8.8.8.8')).toBe('allowed');
    expect(peerVerdict(rules('denied-peer-ip=0.0.0.0-255.255.255.255\nallowed-peer-ip=8.8.8.8'), '8.8.8.8')).toBe('allowed');
    expect(peerVerdict(rules('allowed-peer-ip=127.0.0.1'), '127.0.0.1')).toBe('denied');
    expect(peerVerdict(rules('allowed-peer-ip=127.0.0.1\nallow-loopback-peers'), '127.0.0.1')).toBe('allowed');
    expect(peerVerdict(rules('denied-peer-ip=0.0.0.0-255.255.255.255'), '2001:4860:4860::8888')).toBe('allowed');
    expect(peerVerdict(rules('denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), '8.8.8.8')).toBe('denied');
    // coturn 4.6 reads a range from '::' as having no low end and orders IPv4 before IPv6: this
    // covers every IPv4 address (the old list denied public IPv4 by that accident, not IPv6).
    expect(peerVerdict(rules('denied-peer-ip=::-::ffff'), '8.8.8.8')).toBe('denied');
    expect(peerVerdict(rules('denied-peer-ip=::-::ffff'), '2001:4860:4860::8888')).toBe('allowed');
    expect(peerVerdict(rules('no-multicast-peers'), '239.1.1.1')).toBe('denied');
    expect(peerVerdict(rules(''), '239.1.1.1')).toBe('allowed');
  });

  it('refuses to render a relay that could reach no SFU address (a host name is not an address)', () => {
    const config = loadConfig({ SFU_TURN_SECRET: secret, SFU_RTC_LISTEN_IP: '0.0.0.0', SFU_ANNOUNCED_ADDRESS: 'sfu.school.example' });
    expect(() => renderCoturnConfig(config)).toThrow(/reach no SFU address.*set SFU_ANNOUNCED_ADDRESS to the SFU's public IP/);
  });

  it('adds TLS listening with a certificate, and allows only a loopback SFU in development', () => {
    const tls = loadConfig({ SFU_TURN_SECRET: secret, SFU_TURN_TLS_PORT: '5349', SFU_TURN_TLS_CERT: '/etc/hostname', SFU_TURN_TLS_KEY: '/etc/hostname' });
    const text = renderCoturnConfig(tls);
    expect(text).toContain('tls-listening-port=5349');
    expect(text).toContain('cert=/etc/hostname');
    expect(text.split('\n')).not.toContain('no-tls');
    expect(text).toContain('allowed-peer-ip=127.0.0.1\n');
    expect(text).toContain('allow-loopback-peers');
  });

  it.each([
    [{ SFU_TURN_RELAY_MIN_PORT: '39990', SFU_TURN_RELAY_MAX_PORT: '40010', SFU_WORKERS: '2' }, "overlap the SFU's RTC ports"],
    [{ SFU_TURN_RELAY_MIN_PORT: '50000', SFU_TURN_RELAY_MAX_PORT: '49000' }, 'relay port range is empty'],
    [{ SFU_TURN_PORT: '49200' }, 'TURN port lies inside'],
    [{ SFU_TURN_TLS_PORT: '443' }, 'TURN over TLS needs'],
    [{ SFU_TURN_MANAGED: 'true' }, 'starting coturn needs SFU_TURN_SECRET'],
    [{ SFU_TURN_SECRET: 'short' }, 'SFU_TURN_SECRET=(hidden)'],
    [{ SFU_TURN_CREDENTIAL_TTL_SEC: String(7 * 86_400) }, 'SFU_TURN_CREDENTIAL_TTL_SEC="604800": expected an integer from 60 to 86400'],
  ])('rejects %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toContain(message);
      expect((err as ConfigError).problems.join('\n')).not.toContain('short"');
    }
  });
});
