import { describe, expect, it } from 'vitest';
import { originAllowed } from '../../server/signaling/wsServer.js';

describe('WebSocket Origin check', () => {
  it.each<[string | undefined, string, string[], boolean, string]>([
    [undefined, 'sfu.school.example', [], true, 'no Origin (not a browser)'],
    ['https://sfu.school.example', 'sfu.school.example', [], true, 'the server itself'],
    ['http://localhost:5173', 'sfu.school.example', [], true, 'localhost'],
    ['http://127.0.0.1:3000', 'sfu.school.example', [], true, 'loopback'],
    ['https://lms.school.example', 'sfu.school.example', ['https://lms.school.example'], true, 'allowlisted'],
    ['https://evil.example', 'sfu.school.example', ['https://lms.school.example'], false, 'foreign'],
    ['https://sfu.school.example.evil.example', 'sfu.school.example', [], false, 'look-alike'],
    ['null', 'sfu.school.example', [], false, 'opaque origin'],
  ])('%s on host %s with %j → %s (%s)', (origin, host, allowed, expected, _why) => {
    expect(originAllowed(origin, host, allowed)).toBe(expected);
  });
});
