import { describe, expect, it } from 'vitest';
import { TokenService } from '../../server/auth/tokens.js';
import { cleanName, cleanText } from '../../server/util/text.js';

describe('text shown to other participants', () => {
  it('chat loses controls, bidi marks and overrides, line separators and invisible spaces', () => {
    const hostile = ['\u0007', '\u001b', '\u0085', '\u061c', '\u200b', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2060', '\u2066', '\u2069', '\ufeff'];
    for (const c of hostile) expect(cleanText(`a${c}b`), `U+${c.codePointAt(0)!.toString(16)}`).toBe('ab');
    expect(cleanText('line one\nline two\tend')).toBe('line one\nline two\tend');
  });

  it('chat keeps the joiners that Persian words and emoji sequences need', () => {
    expect(cleanText('می\u200cخواهم')).toBe('می\u200cخواهم');
    expect(cleanText('👩\u200d👩\u200d👧')).toBe('👩\u200d👩\u200d👧');
  });

  it('a name is one visible line: no joiners (look-alikes), no newlines, no hidden characters', () => {
    expect(cleanName('Tea\u200dcher')).toBe('Teacher');
    expect(cleanName('\u202eAna\u200b\nMaria  ')).toBe('Ana Maria');
  });

  it('a token name is cleaned when the token is read, and one with nothing visible is refused', async () => {
    const tokens = new TokenService('a-test-secret-of-at-least-32-characters');
    const claims = await tokens.verify(await tokens.sign({ room: 'r', sub: 'u', name: '\u202eTea\u200dcher', role: 'student' }, 60));
    expect(claims.name).toBe('Teacher');
    const blank = await tokens.sign({ room: 'r', sub: 'u', name: '\u200b\u202e', role: 'student' }, 60);
    await expect(tokens.verify(blank)).rejects.toThrow(/name: a name with visible characters/);
  });
});
