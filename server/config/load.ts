import fs from 'node:fs';
import { configSchema, defaultConfig, envVars, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

/**
 * Builds the configuration from the embedded default and the environment. Throws ConfigError
 * naming every offending variable and what it allows; nothing is half-applied.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = structuredClone(defaultConfig) as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const v of envVars) {
    const text = env[v.name];
    if (text === undefined || text === '') continue;
    if (v.kind === 'int') {
      // Strict: "12abc", "1e3" and " 80" are mistakes, not numbers.
      if (!/^\d+$/.test(text)) {
        problems.push(`${v.name}=${JSON.stringify(text)}: expected ${v.allowed}`);
        continue;
      }
      setPath(raw, v.path, Number(text));
    } else if (v.kind === 'number') {
      if (!/^\d+(\.\d+)?$/.test(text)) {
        problems.push(`${v.name}=${JSON.stringify(text)}: expected ${v.allowed}`);
        continue;
      }
      setPath(raw, v.path, Number(text));
    } else if (v.kind === 'bool') {
      if (text !== 'true' && text !== 'false') {
        problems.push(`${v.name}=${JSON.stringify(text)}: expected ${v.allowed}`);
        continue;
      }
      setPath(raw, v.path, text === 'true');
    } else if (v.kind === 'list') {
      setPath(raw, v.path, text.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      setPath(raw, v.path, text);
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.filter((p) => typeof p === 'string').join('.');
      const v = envVars.find((e) => e.path.join('.') === key);
      // Never echo a secret back, even an invalid one.
      const value = v?.name === 'SFU_JWT_SECRET' || v?.name === 'SFU_TURN_SECRET' || v?.name === 'SFU_REDIS_URL' ? '(hidden)' : JSON.stringify(env[v?.name ?? ''] ?? '(default)');
      const shown = v ? `${v.name}=${value}` : key;
      const hint = issue.code === 'custom' || !v ? issue.message : `expected ${v.allowed}`;
      problems.push(`${shown}: ${hint}`);
    }
  }
  if (problems.length === 0 && parsed.success) {
    const { tlsCert, tlsKey } = parsed.data.http;
    const { tlsCert: turnCert, tlsKey: turnKey } = parsed.data.turn;
    const files = [['SFU_TLS_CERT', tlsCert], ['SFU_TLS_KEY', tlsKey], ['SFU_TURN_TLS_CERT', turnCert], ['SFU_TURN_TLS_KEY', turnKey]] as const;
    for (const [name, file] of files) {
      if (file && !isReadable(file)) problems.push(`${name}=${JSON.stringify(file)}: file not found or not readable`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

function isReadable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
