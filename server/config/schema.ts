import { defaultsOf, envVarsOf, type EnvVar } from './declare.js';
import { checkConfig } from './rules.js';
import { settingsSchema, type Config } from './settings.js';

export type { Config } from './settings.js';
export type { EnvVar } from './declare.js';

/** The one configuration schema: every setting (settings.ts) and the rules between them (rules.ts). */
export const configSchema = settingsSchema.superRefine(checkConfig);

/** Environment variable → config field, in declaration order. */
export const envVars: readonly EnvVar[] = envVarsOf(settingsSchema);

/** The embedded default: what a server runs with when no variable is set. */
export const defaultConfig = defaultsOf(envVars) as Config;
