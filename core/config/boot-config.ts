/**
 * Boot configuration: `config.json` (or `--config <file>`) for the defaults, `PORTCULLIS_*`
 * environment variables over it, validated as a whole. An invalid setting stops start-up with one
 * line naming it.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve, dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { applyDefaults, compileValidator } from './schema.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const BootConfigSchema = Type.Object(
  {
    proxy: Type.Object(
      {
        host: Type.String({
          maxLength: 255,
          default: '127.0.0.1',
          description: 'Address the proxy listens on (`0.0.0.0` for every interface).',
        }),
        port: { ...Port, default: 8080, description: 'Proxy port (PORTCULLIS_PROXY_PORT).' },
        publicUrl: Type.Optional(
          Type.String({
            pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
            maxLength: 2000,
            description:
              "The URL clients reach the proxy at, e.g. https://api.example.com: the issuer of its tokens (PORTCULLIS_PUBLIC_URL); default: the listener's address.",
          }),
        ),
        trustedProxies: Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$', maxLength: 64 }), {
          maxItems: 1000,
          default: [],
          description: 'Addresses or CIDR ranges whose X-Forwarded-* headers are honoured.',
        }),
        requestTimeoutMs: Type.Integer({
          minimum: 1000,
          maximum: 86_400_000,
          default: 300_000,
          description: 'Longest time a client may take to send its whole request, body included; 408 after.',
        }),
        headersTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 86_400_000,
          default: 20_000,
          description:
            'Longest time a client may take to send its request headers (slowloris); 408 after. At most requestTimeoutMs.',
        }),
        healthPath: Type.Optional(
          Type.String({
            pattern: '^/[\\x21-\\x7e]*$',
            maxLength: 200,
            description:
              'A path the proxy listener answers itself, before any route, for load balancers (PORTCULLIS_PROXY_HEALTH_PATH, e.g. `/health`): `200 {"status":"ok"}` while serving, `503` once shutting down so the balancer stops sending. Off when absent.',
          }),
        ),
        maxConnections: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 10_000,
          description: 'Most concurrent client connections per proxy listener; more are answered 503 and closed.',
        }),
        tls: Type.Optional(
          Type.Object(
            {
              port: { ...Port, default: 8443, description: 'HTTPS port of the proxy (PORTCULLIS_PROXY_TLS_PORT).' },
              certFile: Type.String({ minLength: 1, maxLength: 4096, description: 'PEM certificate chain.' }),
              keyFile: Type.String({ minLength: 1, maxLength: 4096, description: 'PEM private key.' }),
            },
            { additionalProperties: false, description: 'Also serve the proxy over HTTPS.' },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    authorizer: Type.Optional(
      Type.Object(
        {
          host: Type.String({
            maxLength: 255,
            default: '127.0.0.1',
            description:
              'Address of the authorizer listener: an internal address only your ingress reaches (PORTCULLIS_AUTHORIZER_HOST).',
          }),
          port: {
            ...Port,
            default: 9090,
            description: 'Authorizer port (PORTCULLIS_AUTHORIZER_PORT; setting it turns the listener on).',
          },
          trustedProxies: Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$', maxLength: 64 }), {
            maxItems: 1000,
            default: [],
            description:
              'Addresses or CIDR ranges of the ingresses allowed on the /nginx and /traefik endpoints, whose X-Original-* and X-Forwarded-* headers describe the request to decide on; anyone else is refused there (403).',
          }),
          unmatched: Type.Union([Type.Literal(401), Type.Literal(403)], {
            default: 401,
            description:
              'The answer when no route matches the original request (never 404: nginx turns that into a 500).',
          }),
        },
        {
          additionalProperties: false,
          description:
            'The external-authorizer listener (off when absent): answers an ingress (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz) whether the original request may pass, without proxying it.',
        },
      ),
    ),
    admin: Type.Object(
      {
        host: Type.String({
          maxLength: 255,
          default: '127.0.0.1',
          description: 'Address of the admin API and back office (PORTCULLIS_ADMIN_HOST).',
        }),
        port: { ...Port, default: 9080, description: 'Admin API and back office port (PORTCULLIS_ADMIN_PORT).' },
        username: Type.String({ minLength: 1, maxLength: 200, default: 'admin', description: 'Admin user name.' }),
        sessionIdleSeconds: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 1800,
          description: 'A back-office session ends after this long without activity.',
        }),
        webSocketMaxBufferedBytes: Type.Integer({
          minimum: 16_384,
          maximum: 1_073_741_824,
          default: 4 * 1024 * 1024,
          description:
            'A back-office WebSocket whose client leaves this much unread is closed (1013); live pushes stop at a quarter of it.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    store: Type.Object(
      {
        file: Type.String({
          minLength: 1,
          maxLength: 4096,
          default: './data/portcullis.json',
          description: "The embedded store's data file (PORTCULLIS_DATA_FILE).",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        kind: Type.Union([Type.Literal('embedded'), Type.Literal('redis')], {
          default: 'embedded',
          description:
            '`embedded`: the data file and a state directory next to it (`<file>.state/`); `redis`: configuration and runtime state in Redis, for several instances. A storage URL alone means `redis`.',
        }),
        url: Type.Optional(
          Type.String({
            pattern: '^rediss?://',
            maxLength: 2000,
            description: 'Redis URL, e.g. `redis://:password@redis:6379/0` (PORTCULLIS_STORAGE_URL).',
          }),
        ),
        keyPrefix: Type.String({
          pattern: '^[A-Za-z0-9:._-]{0,64}$',
          maxLength: 64,
          default: 'portcullis:',
          description: 'Prefix of every Redis key and channel, so several gateways can share one Redis.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'Log level (PORTCULLIS_LOG_LEVEL).' },
        ),
        pretty: Type.Union([Type.Boolean(), Type.Literal('auto')], {
          default: 'auto',
          description: 'Human-readable logs; `auto` when stdout is a terminal.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'Count every proxied request into the per-route series of `/metrics` (requests, latencies, upstream errors). false spares the proxy that work (a few array cells per request); `/metrics` still serves the process, token and store metrics.',
        }),
        token: Type.Optional(
          Type.String({
            minLength: 16,
            maxLength: 512,
            pattern: '^[\\x21-\\x7e]+$',
            description:
              'A bearer token that may read `/metrics` on the admin listener (PORTCULLIS_METRICS_TOKEN): give it to Prometheus instead of the admin password. The admin credentials are accepted too.',
          }),
        ),
        consumers: Type.Integer({
          minimum: 0,
          maximum: 1000,
          default: 0,
          description:
            'Label requests by consumer in `portcullis_consumer_requests_total`: the first N distinct consumers get a series each, every later one counts as `other`; 0 (default) leaves consumers out of the metrics.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    portal: Type.Object(
      {
        privateJwksHosts: Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\s/?#@]+$' }), {
          maxItems: 1000,
          default: [],
          description:
            "Hosts (names or IP addresses, `*`: any) whose JWKS URLs an API token (a portal) may submit in an access request over http or at an internal address (loopback, private, link-local, unique-local). Without them such URLs are refused (400) and keys are fetched from public addresses only. The admin's own writes are never restricted.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    drainDelayMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3_600_000,
        description:
          "On SIGTERM, how long the listeners keep serving while `proxy.healthPath` answers 503, so a load balancer marks this instance down before its listener closes (PORTCULLIS_DRAIN_DELAY_MS). Set it above the balancer's check interval times its fall count. Default: 5000 with a health path, 0 without.",
      }),
    ),
    shutdownGraceMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 10_000,
      description:
        'How long in-flight requests may take to finish once the listeners close on SIGTERM (after the drain delay); the process exits as soon as the last one ends.',
    }),
    workers: Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], {
      default: 1,
      description:
        'Processes serving the proxy listener (PORTCULLIS_WORKERS); `auto`: one per core. With more than one, the admin API and back office are served once, by the primary process.',
    }),
  },
  { additionalProperties: false },
);

export type BootConfig = Static<typeof BootConfigSchema>;
const validator = compileValidator(BootConfigSchema);

/** The drain delay when `drainDelayMs` is not set and a health path is: a few checks of a typical balancer. */
export const DEFAULT_DRAIN_DELAY_MS = 5_000;

/**
 * The drain delay in effect: the configured one, else a few seconds when a load balancer can watch
 * the health path, else none (nothing would learn of the drain, so waiting only slows the stop).
 */
export function drainDelayOf(config: BootConfig): number {
  return config.drainDelayMs ?? (config.proxy.healthPath === undefined ? 0 : DEFAULT_DRAIN_DELAY_MS);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables and the setting each overrides. */
export const ENV_OVERRIDES: ReadonlyArray<[string, string[], 'int' | 'string']> = [
  ['PORTCULLIS_PROXY_PORT', ['proxy', 'port'], 'int'],
  ['PORTCULLIS_PROXY_HOST', ['proxy', 'host'], 'string'],
  ['PORTCULLIS_PUBLIC_URL', ['proxy', 'publicUrl'], 'string'],
  ['PORTCULLIS_PROXY_TLS_PORT', ['proxy', 'tls', 'port'], 'int'],
  ['PORTCULLIS_PROXY_HEALTH_PATH', ['proxy', 'healthPath'], 'string'],
  ['PORTCULLIS_ADMIN_PORT', ['admin', 'port'], 'int'],
  ['PORTCULLIS_AUTHORIZER_PORT', ['authorizer', 'port'], 'int'],
  ['PORTCULLIS_AUTHORIZER_HOST', ['authorizer', 'host'], 'string'],
  ['PORTCULLIS_ADMIN_HOST', ['admin', 'host'], 'string'],
  ['PORTCULLIS_DATA_FILE', ['store', 'file'], 'string'],
  ['PORTCULLIS_LOG_LEVEL', ['log', 'level'], 'string'],
  ['PORTCULLIS_STORAGE_URL', ['storage', 'url'], 'string'],
  ['PORTCULLIS_WORKERS', ['workers'], 'int'],
  ['PORTCULLIS_METRICS_TOKEN', ['metrics', 'token'], 'string'],
  ['PORTCULLIS_DRAIN_DELAY_MS', ['drainDelayMs'], 'int'],
];

/** Build the configuration from an optional file and the environment; throws ConfigError. */
export function loadBootConfig(options: { file?: string | null; env?: NodeJS.ProcessEnv } = {}): BootConfig {
  const path = options.file ? resolve(options.file) : null;
  const raw = path ? readConfigFile(path) : {};
  const base = path ? dirname(path) : process.cwd();
  const sources = applyEnvironment(raw, options.env ?? process.env);
  const config = applyDefaults(BootConfigSchema, raw) as BootConfig;
  checkSchema(config, sources);
  checkConsistency(config, raw);
  // The data file is relative to the configuration file that names it (or the working directory).
  if (!sources.has('/store/file') && isRecord(raw.store) && raw.store.file)
    config.store.file = resolve(base, config.store.file);
  if (config.proxy.tls) {
    config.proxy.tls.certFile = resolve(base, config.proxy.tls.certFile);
    config.proxy.tls.keyFile = resolve(base, config.proxy.tls.keyFile);
  }
  return config;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `Cannot read configuration file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Configuration file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed) || Array.isArray(parsed))
    throw new ConfigError(`Configuration file ${path} must hold a JSON object`);
  return parsed;
}

/** Write the environment's overrides into `raw`; returns which variable set which path (for error messages). */
function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const sources = new Map<string, string>();
  for (const [name, path, type] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let section: Record<string, unknown> | null = raw;
    for (const key of path.slice(0, -1)) {
      const next: unknown = (section[key] ??= {});
      section = isRecord(next) ? next : null;
      if (section === null) break; // the file's own value is not an object: validation names it
    }
    if (section === null) continue;
    const leaf = path.at(-1)!;
    section[leaf] = type === 'int' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    sources.set('/' + path.join('/'), name);
  }
  return sources;
}

function checkSchema(config: BootConfig, sources: Map<string, string>): void {
  const [first] = validator.errors(config);
  if (!first) return;
  const source = sources.get(first.path);
  const value = valueAt(config, first.path);
  throw new ConfigError(
    `Invalid configuration: ${first.path.slice(1).replaceAll('/', '.') || '(root)'}${source ? ` (from ${source})` : ''} ${first.message.toLowerCase()}, got ${JSON.stringify(value)}`,
  );
}

/** What the schema cannot say: values that depend on each other, addresses, URLs. */
function checkConsistency(config: BootConfig, raw: Record<string, unknown>): void {
  if (config.proxy.publicUrl !== undefined && !URL.canParse(config.proxy.publicUrl))
    throw new ConfigError(
      `Invalid configuration: proxy.publicUrl is not a URL, got ${JSON.stringify(config.proxy.publicUrl)}`,
    );
  if (config.storage.url && !(isRecord(raw.storage) && raw.storage.kind !== undefined)) config.storage.kind = 'redis';
  if (config.storage.kind === 'redis' && !config.storage.url)
    throw new ConfigError(
      'Invalid configuration: storage.url is required when storage.kind is "redis" (or set PORTCULLIS_STORAGE_URL)',
    );
  for (const [name, entries] of [
    ['proxy.trustedProxies', config.proxy.trustedProxies],
    ['authorizer.trustedProxies', config.authorizer?.trustedProxies ?? []],
  ] as const) {
    entries.forEach((entry, i) => {
      const problem = trustedProxyProblem(entry);
      if (problem)
        throw new ConfigError(`Invalid configuration: ${name}.${i} ${problem}, got ${JSON.stringify(entry)}`);
    });
  }
  if (config.proxy.headersTimeoutMs > config.proxy.requestTimeoutMs)
    throw new ConfigError(
      `Invalid configuration: proxy.headersTimeoutMs (${config.proxy.headersTimeoutMs}) must not exceed proxy.requestTimeoutMs (${config.proxy.requestTimeoutMs})`,
    );
}

/**
 * What is wrong with a trusted proxy entry (an address or `address/prefix`), or null. The schema's
 * pattern only limits the characters; an entry that is not an address would otherwise surface as
 * an exception deep in the listener's construction.
 */
function trustedProxyProblem(entry: string): string | null {
  const [address, prefix, extra] = entry.split('/');
  const version = isIP(address!);
  if (version === 0 || extra !== undefined) return 'is not an IPv4 or IPv6 address or CIDR range';
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)))
    return `has a prefix length outside 0-${version === 4 ? 32 : 128}`;
  return null;
}

function valueAt(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('/').slice(1)) node = isRecord(node) ? node[key] : undefined;
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
