import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/serverProcess.js';

/**
 * Docker's .dockerignore rules: each pattern is matched against the whole path from the context's
 * root (Go's filepath.Match: `*` and `?` stay within one folder, `**` spans any number of them); a
 * match on a folder excludes everything in it; a later `!pattern` takes a path back.
 */
function ignored(patterns: string[], file: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '«dirs»')
        .replace(/\*\*/g, '«any»')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/«dirs»/g, '(?:.*/)?')
        .replace(/«any»/g, '.*')}$`,
    );
  const parts = file.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRegex((negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, ''));
    if (prefixes.some((p) => re.test(p))) out = !negate;
  }
  return out;
}

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps secrets and data out of the image, wherever they lie', () => {
    for (const file of ['.env', '.env.production', 'config/sfu.env', 'deploy/site.env', 'config/tls/key.pem', 'config/tls/cert.pem', 'server.key', 'ops/certs/tls.key', 'a/b/c.pem', 'recordings/abc/recording.json', 'node_modules/x/index.js', '.git/config']) {
      expect(ignored(patterns, file), file).toBe(true);
    }
  });

  it('lets in what the image is built from', () => {
    for (const file of ['package.json', 'package-lock.json', 'server/main.ts', 'client/sdk/index.ts', 'protocol/schema.ts', 'scripts/setup.sh', 'config/turnserver.conf.template', 'config/sfu.env.example']) {
      expect(ignored(patterns, file), file).toBe(false);
    }
  });
});
