import fs from 'node:fs';
import { getPath, setPath, type EnvKind } from './declare.js';
import { configSchema, defaultConfig, envVars, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A variable's text as its kind; undefined when it is not one. Strict: "12abc", "1e3" and " 80" are mistakes, not numbers. */
const fromText: Record<EnvKind, (text: string) => unknown> = {
  int: (t) => (/^\d+$/.test(t) ? Number(t) : undefined),
  number: (t) => (/^\d+(\.\d+)?$/.test(t) ? Number(t) : undefined),
  bool: (t) => (t === 'true' || t === 'false' ? t === 'true' : undefined),
  list: (t) => t.split(',').map((s) => s.trim()).filter(Boolean),
  string: (t) => t,
};

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
    const value = fromText[v.kind](text);
    if (value === undefined) problems.push(`${v.name}=${JSON.stringify(text)}: expected ${v.allowed}`);
    else setPath(raw, v.path, value);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.filter((p) => typeof p === 'string').join('.');
      const v = envVars.find((e) => e.path.join('.') === key);
      // Never echo a secret back, even an invalid one.
      const value = v?.secret ? '(hidden)' : JSON.stringify(env[v?.name ?? ''] ?? '(default)');
      const shown = v ? `${v.name}=${value}` : key;
      const hint = issue.code === 'custom' || !v ? issue.message : `expected ${v.allowed}`;
      problems.push(`${shown}: ${hint}`);
    }
  }
  if (problems.length === 0 && parsed.success) {
    for (const v of envVars.filter((e) => e.file)) {
      const file = getPath(parsed.data as unknown as Record<string, unknown>, v.path);
      if (typeof file === 'string' && !isReadable(file)) problems.push(`${v.name}=${JSON.stringify(file)}: file not found or not readable`);
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
