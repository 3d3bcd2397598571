import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config/load.js';
import { envVars, type EnvVar } from '../../server/config/schema.js';
import { repoRoot } from '../helpers/serverProcess.js';

function problemsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has a safe embedded default that needs nothing', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 3000, headersTimeoutMs: 10_000 });
    expect(c.workers.count).toBe(os.availableParallelism());
    expect(c.rtc).toEqual({ listenIp: '127.0.0.1', basePort: 40000, internalMinPort: 47000, internalMaxPort: 47999 });
  });

  it('takes every documented override from the environment', () => {
    const c = loadConfig({
      SFU_HTTP_HOST: '0.0.0.0',
      SFU_HTTP_PORT: '8080',
      SFU_RTC_LISTEN_IP: '0.0.0.0',
      SFU_ANNOUNCED_ADDRESS: 'sfu.example.org',
      SFU_RTC_BASE_PORT: '50000',
      SFU_RTC_INTERNAL_MIN_PORT: '51000',
      SFU_RTC_INTERNAL_MAX_PORT: '51099',
      SFU_WORKERS: '3',
      SFU_LOG_LEVEL: 'debug',
      SFU_WORKER_LOG_LEVEL: 'error',
      SFU_SHUTDOWN_TIMEOUT_MS: '5000',
      SFU_TLS_CERT: '/etc/hostname',
      SFU_TLS_KEY: '/etc/hostname',
      // Bound beyond loopback without a secret: development tokens must be asked for by name.
      SFU_DEV_TOKENS: 'true',
    });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 8080, tlsCert: '/etc/hostname', tlsKey: '/etc/hostname', headersTimeoutMs: 10_000 });
    expect(c.rtc).toEqual({ listenIp: '0.0.0.0', announcedAddress: 'sfu.example.org', basePort: 50000, internalMinPort: 51000, internalMaxPort: 51099 });
    expect(c.workers).toMatchObject({ count: 3, logLevel: 'error' });
    expect(c.log.level).toBe('debug');
    expect(c.shutdownTimeoutMs).toBe(5000);
  });

  it.each([
    ['not a number', { SFU_HTTP_PORT: 'abc' }, 'SFU_HTTP_PORT="abc": expected an integer from 1 to 65535'],
    ['a number with junk', { SFU_WORKERS: '2x' }, 'SFU_WORKERS="2x": expected an integer from 1 to 256'],
    ['negative', { SFU_RTC_BASE_PORT: '-1' }, 'SFU_RTC_BASE_PORT="-1": expected an integer'],
    ['out of range', { SFU_HTTP_PORT: '70000' }, 'SFU_HTTP_PORT="70000": expected an integer from 1 to 65535'],
    ['zero workers', { SFU_WORKERS: '0' }, 'SFU_WORKERS="0": expected an integer from 1 to 256'],
    ['not an IP', { SFU_RTC_LISTEN_IP: 'localhost' }, 'SFU_RTC_LISTEN_IP="localhost": expected an IPv4 or IPv6 address'],
    ['unknown enum value', { SFU_LOG_LEVEL: 'loud' }, 'SFU_LOG_LEVEL="loud": expected trace, debug, info'],
    ['cert without key', { SFU_TLS_CERT: '/etc/hostname' }, 'SFU_TLS_CERT="/etc/hostname": set both the certificate and the key'],
    ['missing file', { SFU_TLS_CERT: '/nope.pem', SFU_TLS_KEY: '/etc/hostname' }, 'SFU_TLS_CERT="/nope.pem": file not found'],
    ['wildcard without announced address', { SFU_RTC_LISTEN_IP: '0.0.0.0' }, 'SFU_ANNOUNCED_ADDRESS="(default)": required when'],
    ['ports past 65535', { SFU_RTC_BASE_PORT: '65535', SFU_WORKERS: '2' }, 'SFU_RTC_BASE_PORT="65535": base port + worker count'],
    ['internal ports over the recording ports', { SFU_RTC_INTERNAL_MIN_PORT: '46900', SFU_RTC_INTERNAL_MAX_PORT: '47100' }, 'SFU_RTC_INTERNAL_MIN_PORT="46900": the internal ports overlap'],
    ['too few internal ports', { SFU_RTC_INTERNAL_MIN_PORT: '47000', SFU_RTC_INTERNAL_MAX_PORT: '47001' }, 'needs at least 16 ports'],
  ])('rejects %s with a message naming the variable', (_what, env, message) => {
    const problems = problemsFor(env);
    expect(problems.join('\n')).toContain(message);
  });

  it('reports every bad variable at once', () => {
    const problems = problemsFor({ SFU_HTTP_PORT: 'x', SFU_WORKER_LOG_LEVEL: 'chatty' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain('SFU_WORKER_LOG_LEVEL="chatty": expected debug, warn, error or none');
  });

  it('every variable is documented in the README and listed in config/sfu.env.example', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const example = readFileSync(path.join(repoRoot, 'config', 'sfu.env.example'), 'utf8');
    expect(envVars.filter((v) => !readme.includes(`\`${v.name}\``)).map((v) => v.name)).toEqual([]);
    expect(envVars.filter((v) => !new RegExp(`^${v.name}=`, 'm').test(example)).map((v) => v.name)).toEqual([]);
  });

  it('the README and config/sfu.env.example state each setting\'s declared default', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const example = readFileSync(path.join(repoRoot, 'config', 'sfu.env.example'), 'utf8');
    // A literal default, as both documents write it; unset and empty defaults have none.
    const literal = (v: EnvVar) => {
      if (v.computed !== undefined || v.default === undefined) return undefined;
      const text = Array.isArray(v.default) ? v.default.join(',') : String(v.default);
      return text === '' ? undefined : text;
    };
    // README rows: | `A`, `B` | default of A, default of B | meaning |
    const readmeDefaults = new Map<string, string>();
    for (const [, names, defaults] of readme.matchAll(/^\| ((?:`SFU_\w+`(?:, )?)+) \| ([^|]*) \|/gm)) {
      const entries = defaults!.trim().split(', ');
      [...names!.matchAll(/`(SFU_\w+)`/g)].forEach(([, name], i) => readmeDefaults.set(name!, entries[i] ?? ''));
    }
    const wrong: string[] = [];
    for (const v of envVars) {
      const want = literal(v);
      const inReadme = readmeDefaults.get(v.name);
      if (inReadme === undefined) wrong.push(`${v.name}: no row in the README's tables`);
      else if (want !== undefined && !inReadme.startsWith(`\`${want}\``)) wrong.push(`${v.name}: README says ${inReadme}, declared \`${want}\``);
      else if (v.computed !== undefined && !inReadme.includes(v.computed)) wrong.push(`${v.name}: README should say "${v.computed}"`);
      const line = new RegExp(`^${v.name}=(.*)$`, 'm').exec(example)?.[1];
      if (line !== undefined && line !== (want ?? '')) wrong.push(`${v.name}: sfu.env.example has "${line}", declared "${want ?? ''}"`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses to start beyond loopback without a token secret, unless development tokens are asked for by name', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'sfu.school.example']) {
      expect(problemsFor({ SFU_HTTP_HOST: host }).join('\n'), host).toContain('SFU_JWT_SECRET=(hidden): required when SFU_HTTP_HOST');
      expect(loadConfig({ SFU_HTTP_HOST: host, SFU_DEV_TOKENS: 'true' }).http.host).toBe(host);
      expect(loadConfig({ SFU_HTTP_HOST: host, SFU_JWT_SECRET: 'a-secret-of-at-least-32-characters!!' }).http.host).toBe(host);
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(loadConfig({ SFU_HTTP_HOST: host }).http.host).toBe(host);
  });

  it('parses decimal numbers where a variable allows them, and refuses junk', () => {
    expect(loadConfig({ SFU_CHAT_RATE_PER_SEC: '0.5' }).rooms.chatRatePerSec).toBe(0.5);
    expect(problemsFor({ SFU_CHAT_RATE_PER_SEC: '1e3' }).join('\n')).toContain('SFU_CHAT_RATE_PER_SEC="1e3": expected a number from 0.01 to 100');
  });

  it('refuses joins at 90 % worker CPU by default; SFU_WORKER_MAX_CPU moves or lifts that, within 0.01-1', () => {
    expect(loadConfig({}).workers.maxCpu).toBe(0.9);
    expect(loadConfig({ SFU_WORKER_MAX_CPU: '0.75' }).workers.maxCpu).toBe(0.75);
    expect(loadConfig({ SFU_WORKER_MAX_CPU: '1' }).workers.maxCpu).toBe(1);
    expect(problemsFor({ SFU_WORKER_MAX_CPU: '0' }).join('\n')).toContain('SFU_WORKER_MAX_CPU');
    expect(problemsFor({ SFU_WORKER_MAX_CPU: '90' }).join('\n')).toContain('SFU_WORKER_MAX_CPU');
  });
});
