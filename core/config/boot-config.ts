/**
 * Boot configuration: `config.json` (or `--config <file>`) for the defaults, `PORTCULLIS_*`
 * environment variables over it, validated as a whole. An invalid setting stops start-up with one
 * line naming it.
 */
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { applyDefaults, compileValidator } from './schema.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const BootConfigSchema = Type.Object({
  proxy: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'Address the proxy listens on (`0.0.0.0` for every interface).' }),
    port: { ...Port, default: 8080, description: 'Proxy port (PORTCULLIS_PROXY_PORT).' },
    trustedProxies: Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' }), { default: [], description: 'Addresses or CIDR ranges whose X-Forwarded-* headers are honoured.' }),
    requestTimeoutMs: Type.Integer({ minimum: 1000, default: 300_000, description: 'Longest time a client may take to send its whole request.' }),
    tls: Type.Optional(Type.Object({
      port: { ...Port, default: 8443, description: 'HTTPS port of the proxy (PORTCULLIS_PROXY_TLS_PORT).' },
      certFile: Type.String({ minLength: 1, description: 'PEM certificate chain.' }),
      keyFile: Type.String({ minLength: 1, description: 'PEM private key.' }),
    }, { additionalProperties: false, description: 'Also serve the proxy over HTTPS.' })),
  }, { additionalProperties: false, default: {} }),
  admin: Type.Object({
    host: Type.String({ default: '127.0.0.1', description: 'Address of the admin API and back office (PORTCULLIS_ADMIN_HOST).' }),
    port: { ...Port, default: 9080, description: 'Admin API and back office port (PORTCULLIS_ADMIN_PORT).' },
    username: Type.String({ minLength: 1, default: 'admin', description: 'Admin user name.' }),
    sessionIdleSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 1800, description: 'A back-office session ends after this long without activity.' }),
  }, { additionalProperties: false, default: {} }),
  store: Type.Object({
    file: Type.String({ minLength: 1, default: './data/portcullis.json', description: 'The embedded store\'s data file (PORTCULLIS_DATA_FILE).' }),
  }, { additionalProperties: false, default: {} }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'Log level (PORTCULLIS_LOG_LEVEL).' }),
    pretty: Type.Union([Type.Boolean(), Type.Literal('auto')], { default: 'auto', description: 'Human-readable logs; `auto` when stdout is a terminal.' }),
  }, { additionalProperties: false, default: {} }),
  shutdownGraceMs: Type.Integer({ minimum: 0, default: 10_000, description: 'How long in-flight requests may take to finish on SIGTERM.' }),
  workers: Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], { default: 1, description: 'Processes serving the proxy listener (PORTCULLIS_WORKERS); `auto`: one per core. With more than one, the admin API and back office are served once, by the primary process.' }),
}, { additionalProperties: false });

export type BootConfig = Static<typeof BootConfigSchema>;
const validator = compileValidator(BootConfigSchema);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables and the setting each overrides. */
export const ENV_OVERRIDES: ReadonlyArray<[string, string[], 'int' | 'string']> = [
  ['PORTCULLIS_PROXY_PORT', ['proxy', 'port'], 'int'],
  ['PORTCULLIS_PROXY_HOST', ['proxy', 'host'], 'string'],
  ['PORTCULLIS_PROXY_TLS_PORT', ['proxy', 'tls', 'port'], 'int'],
  ['PORTCULLIS_ADMIN_PORT', ['admin', 'port'], 'int'],
  ['PORTCULLIS_ADMIN_HOST', ['admin', 'host'], 'string'],
  ['PORTCULLIS_DATA_FILE', ['store', 'file'], 'string'],
  ['PORTCULLIS_LOG_LEVEL', ['log', 'level'], 'string'],
  ['PORTCULLIS_WORKERS', ['workers'], 'int'],
];

/** Build the configuration from an optional file and the environment; throws ConfigError. */
export function loadBootConfig(options: { file?: string | null; env?: NodeJS.ProcessEnv } = {}): BootConfig {
  const env = options.env ?? process.env;
  let raw: Record<string, any> = {};
  let base = process.cwd();
  if (options.file) {
    const path = resolve(options.file);
    base = dirname(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`Cannot read configuration file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`Configuration file ${path} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`Configuration file ${path} must hold a JSON object`);
  }
  const sources = new Map<string, string>();
  for (const [name, path, type] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let section = raw;
    for (const key of path.slice(0, -1)) section = (section[key] ??= {});
    const leaf = path.at(-1)!;
    section[leaf] = type === 'int' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    sources.set('/' + path.join('/'), name);
  }
  const config = applyDefaults(BootConfigSchema, raw) as BootConfig;
  const [first] = validator.errors(config);
  if (first) {
    const source = sources.get(first.path);
    const value = valueAt(config, first.path);
    throw new ConfigError(`Invalid configuration: ${first.path.slice(1).replaceAll('/', '.') || '(root)'}${source ? ` (from ${source})` : ''} ${first.message.toLowerCase()}, got ${JSON.stringify(value)}`);
  }
  // The data file is relative to the configuration file that names it (or the working directory).
  if (!sources.has('/store/file') && raw.store?.file) config.store.file = resolve(base, config.store.file);
  if (config.proxy.tls) {
    config.proxy.tls.certFile = resolve(base, config.proxy.tls.certFile);
    config.proxy.tls.keyFile = resolve(base, config.proxy.tls.keyFile);
  }
  return config;
}

function valueAt(root: unknown, path: string): unknown {
  let node: any = root;
  for (const key of path.split('/').slice(1)) node = node?.[key];
  return node;
}
