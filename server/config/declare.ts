import { z } from 'zod';

/**
 * One setting, declared once beside its schema: the environment variable that sets it, its embedded
 * default, and what to tell a user who sets it wrong. The variable table, the default config and
 * the error texts are all derived from these declarations (see `envVars` and `defaultsOf`).
 */
export interface SettingMeta {
  env: string;
  /** The embedded default; none: unset (the setting is optional, or computed where it is used). */
  default?: unknown;
  /** What a value must be, for settings whose schema cannot say it (free-form strings). */
  allowed?: string;
  /** A default that depends on the machine, as the docs state it (e.g. "number of cores"). */
  computed?: string;
  /** Appended to the text derived from the schema's bounds, e.g. "(worker i uses base + i)". */
  note?: string;
  /** Never echoed back in an error message. */
  secret?: boolean;
  /** A file the server must be able to read. */
  file?: boolean;
}

const registry = z.registry<SettingMeta>();

/** Declares `schema` as a setting. The schema is copied, so one base (e.g. a port) serves many. */
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta & { default?: z.input<T> }): T {
  const own = schema.clone() as T;
  registry.add(own, meta);
  return own;
}

export type EnvKind = 'string' | 'int' | 'number' | 'bool' | 'list';

export interface EnvVar {
  name: string;
  path: readonly string[];
  kind: EnvKind;
  /** What the error message tells the user the variable accepts. */
  allowed: string;
  default: unknown;
  /** How the docs state a machine-dependent default. */
  computed: string | undefined;
  secret: boolean;
  file: boolean;
}

function unwrap(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
}

function kindOf(schema: z.ZodType): EnvKind {
  if (schema instanceof z.ZodNumber) return schema.isInt ? 'int' : 'number';
  if (schema instanceof z.ZodBoolean) return 'bool';
  if (schema instanceof z.ZodArray) return 'list';
  return 'string';
}

const orList = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? ''));

/** "an integer from 1 to 65535", "debug, warn, error or none"...: read off the schema itself. */
function allowedOf(name: string, schema: z.ZodType, meta: SettingMeta): string {
  let derived: string | undefined;
  if (schema instanceof z.ZodNumber) {
    const { minValue: min, maxValue: max } = schema;
    if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max) || Math.abs(max) >= Number.MAX_SAFE_INTEGER) {
      throw new Error(`setting ${name}: a number needs both bounds`);
    }
    derived = `${schema.isInt ? 'an integer' : 'a number'} from ${min} to ${max}`;
  } else if (schema instanceof z.ZodBoolean) {
    derived = 'true or false';
  } else if (schema instanceof z.ZodEnum) {
    derived = orList(schema.options.map(String));
  }
  const text = derived ?? meta.allowed;
  if (!text) throw new Error(`setting ${name}: say what it allows (meta.allowed)`);
  return meta.note ? `${text} ${meta.note}` : text;
}

/** Every setting in `schema` (nested objects walked in declaration order), with its path. */
export function envVarsOf(schema: z.ZodObject, path: readonly string[] = []): EnvVar[] {
  const out: EnvVar[] = [];
  for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    const here = [...path, key];
    const meta = registry.get(field);
    if (meta) {
      const inner = unwrap(field);
      out.push({
        name: meta.env,
        path: here,
        kind: kindOf(inner),
        allowed: allowedOf(meta.env, inner, meta),
        default: meta.default,
        computed: meta.computed,
        secret: meta.secret === true,
        file: meta.file === true,
      });
    } else if (field instanceof z.ZodObject) {
      out.push(...envVarsOf(field, here));
    } else {
      throw new Error(`config field ${here.join('.')} is neither a setting nor a group of settings`);
    }
  }
  return out;
}

export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

export function getPath(target: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = target;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** The configuration made of every setting's default (unset ones left out). */
export function defaultsOf(vars: readonly EnvVar[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of vars) {
    if (v.default !== undefined) setPath(out, v.path, structuredClone(v.default));
    else if (v.path.length > 1) setPath(out, v.path.slice(0, -1), getPath(out, v.path.slice(0, -1)) ?? {});
  }
  return out;
}
