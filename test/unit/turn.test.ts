import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/load.js';
import { deniedPeerRanges, renderCoturnConfig } from '../../server/turn/coturnConfig.js';
import { iceServersFor, turnCredentials } from '../../server/turn/credentials.js';

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
