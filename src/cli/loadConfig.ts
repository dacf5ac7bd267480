import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ZodError } from 'zod';
import { type Config, configSchema } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

export interface ConfigOverrides {
  host?: string;
  port?: number;
  /** `serve --cluster URL`: the cluster's broker (turns the cluster on, or replaces cluster.url). */
  cluster?: string;
}

/** Environment variables that override secrets in the file. */
const TOKEN_ENV = {
  publishToken: 'EMOSTREAM_PUBLISH_TOKEN',
  subscribeToken: 'EMOSTREAM_SUBSCRIBE_TOKEN',
  adminToken: 'EMOSTREAM_ADMIN_TOKEN',
} as const;

/** The MQTT broker password (used only when the file has an `mqtt` section: the variable alone turns nothing on). */
const MQTT_PASSWORD_ENV = 'EMOSTREAM_MQTT_PASSWORD';

/** The cluster broker's credentials (used only when the cluster is on). */
const CLUSTER_ENV = {
  token: 'EMOSTREAM_CLUSTER_TOKEN',
  user: 'EMOSTREAM_CLUSTER_USER',
  password: 'EMOSTREAM_CLUSTER_PASSWORD',
  credsFile: 'EMOSTREAM_CLUSTER_CREDS',
} as const;

/**
 * Reads the YAML file (if any), substitutes `${VAR}` in strings from the environment (so camera passwords need
 * not be written in the file), applies token variables and command-line flags, validates against the one schema and
 * freezes the result. Errors name the file and the path of the offending key: `config.yaml: models.detectr: unknown key`.
 */
export function loadConfig(
  file: string | undefined,
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Config> {
  let raw: unknown = {};
  const where = file ?? '(defaults)';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ConfigError(`${file}: cannot read the config file`, { cause, code: 'CONFIG_UNREADABLE' });
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (cause) {
      throw new ConfigError(`${file}: not valid YAML (${(cause as Error).message.split('\n')[0]})`, { cause });
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: the top level must be a mapping`);
  }
  const expanded = substituteEnv(raw, env, where) as Record<string, unknown>;
  const server = { ...((expanded.server as object) ?? {}) } as Record<string, unknown>;
  if (overrides.host !== undefined) server.host = overrides.host;
  if (overrides.port !== undefined) server.port = overrides.port;
  const auth = { ...((expanded.auth as object) ?? {}) } as Record<string, unknown>;
  for (const [key, name] of Object.entries(TOKEN_ENV)) {
    if (env[name]) auth[key] = env[name];
  }
  const withSecrets: Record<string, unknown> = { ...expanded, server, auth };
  if (expanded.mqtt && typeof expanded.mqtt === 'object' && env[MQTT_PASSWORD_ENV]) {
    withSecrets.mqtt = { ...(expanded.mqtt as object), password: env[MQTT_PASSWORD_ENV] };
  }
  const cluster = clusterSection(expanded.cluster, overrides.cluster, env);
  if (cluster) withSecrets.cluster = cluster;
  const result = configSchema.safeParse(withSecrets);
  if (!result.success) throw new ConfigError(`${where}: ${describeIssues(result.error)}`);
  return deepFreeze(result.data);
}

function clusterSection(section: unknown, url: string | undefined, env: NodeJS.ProcessEnv): unknown {
  if (section === undefined && url === undefined) return undefined;
  if (section !== undefined && (typeof section !== 'object' || section === null)) return section; // the schema says why
  const out: Record<string, unknown> = { ...(section as object) };
  if (url !== undefined) out.url = url;
  for (const [key, name] of Object.entries(CLUSTER_ENV)) {
    if (env[name]) out[key] = env[name];
  }
  return out;
}

function describeIssues(error: ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
        return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      return `${path || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}

function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, where: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new ConfigError(`${where}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, where));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, where)]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
