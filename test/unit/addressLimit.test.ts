import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AddressLimit, clientAddress } from '../../server/signaling/addressLimit.js';

describe('the client address a socket counts against', () => {
  const proxies = new Set(['10.0.0.2', '10.0.0.3']);
  it.each<[string, string | undefined, string, string]>([
    ['203.0.113.5', '198.51.100.1', '203.0.113.5', 'not from a trusted proxy: the header is ignored'],
    ['::ffff:203.0.113.5', undefined, '203.0.113.5', 'an IPv4 client on a dual-stack socket'],
    ['10.0.0.2', '198.51.100.1', '198.51.100.1', 'from a trusted proxy: the address it appended'],
    ['10.0.0.2', '1.2.3.4, 198.51.100.1', '198.51.100.1', 'what the client wrote further left is ignored'],
    ['10.0.0.2', '198.51.100.1, 10.0.0.3', '198.51.100.1', 'through two trusted proxies'],
    ['10.0.0.2', undefined, '10.0.0.2', 'a trusted proxy without the header'],
    ['10.0.0.2', 'garbage', '10.0.0.2', 'a header that is not an address'],
  ])('%s with X-Forwarded-For %s → %s (%s)', (remote, forwardedFor, expected) => {
    expect(clientAddress(remote, forwardedFor, proxies)).toBe(expected);
  });
});

describe('open sockets per address', () => {
  it('refuses beyond the limit until a counted socket closes; 0 is no limit', async () => {
    const limit = new AddressLimit(2);
    const a = new PassThrough();
    const b = new PassThrough();
    expect(limit.admit('198.51.100.1', a)).toBe('ok');
    expect(limit.admit('198.51.100.1', b)).toBe('ok');
    expect(limit.admit('198.51.100.1', new PassThrough())).toBe('first-refusal');
    expect(limit.admit('198.51.100.1', new PassThrough())).toBe('refused');
    expect(limit.admit('198.51.100.2', new PassThrough())).toBe('ok');
    a.destroy();
    await new Promise((r) => a.once('close', r));
    expect(limit.count('198.51.100.1')).toBe(1);
    expect(limit.admit('198.51.100.1', new PassThrough())).toBe('ok');
    const none = new AddressLimit(0);
    for (let i = 0; i < 1000; i++) expect(none.admit('198.51.100.1', new PassThrough())).toBe('ok');
  });
});
