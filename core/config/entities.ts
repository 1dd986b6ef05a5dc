/**
 * The entities the core owns (routes, global configuration) and the registry of every entity kind,
 * including those that plugins add (API keys, key pairs…). A kind's schema validates admin writes
 * and the data file, types the code and draws the back-office form.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileValidator, DATE_TIME_MAX_LENGTH, type Validator } from './schema.js';
import { UpstreamTlsSchema } from './upstream-tls.js';

/** A real date-time (RFC 3339, calendar checked by the format registered in schema.ts). */
export const DateTime = (options: { description?: string } = {}) =>
  Type.String({ format: 'date-time', maxLength: DATE_TIME_MAX_LENGTH, ...options });

/** Fields every stored entity carries; the store sets them, clients may send them back unchanged. */
export const EntityMeta = {
  version: Type.Optional(
    Type.Integer({
      title: 'Version',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Bumped by every write; send it back on update to detect concurrent edits (409 when stale).',
    }),
  ),
  createdAt: Type.Optional({
    title: 'Created at',
    ...DateTime({ description: 'Read-only: creation time (ISO 8601).' }),
  }),
  updatedAt: Type.Optional({
    title: 'Updated at',
    ...DateTime({ description: 'Read-only: last update time (ISO 8601).' }),
  }),
};
export const READ_ONLY_FIELDS = ['createdAt', 'updatedAt'] as const;

export const EntityId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$',
  maxLength: 128,
  description: 'Identifier: letters, digits, `.`, `_`, `~`, `-`; at most 128 characters.',
});

/** Bounds shared by the schemas: every string, list and map accepted from a client has a size. */
export const MAX_PATTERN_LENGTH = 1000;
export const MAX_LIST_ITEMS = 100;
export const MAX_MAP_ENTRIES = 100;

export const PluginInstanceSchema = Type.Object(
  {
    plugin: Type.String({
      title: 'Plugin',
      minLength: 1,
      maxLength: 100,
      description: 'Plugin id from the catalog (`GET /api/plugins`).',
    }),
    enabled: Type.Boolean({ title: 'Enabled', default: true, description: 'A disabled instance is kept but not run.' }),
    include: Type.Array(Type.String({ minLength: 1, maxLength: MAX_PATTERN_LENGTH }), {
      title: 'Include',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description:
        'Regular expressions (anchored at both ends) on the path relative to the route, as the upstream receives it (normalized, after stripPath; the full path for sinks, which run before routing); when non-empty, the plugin runs only on matching paths.',
    }),
    exclude: Type.Array(Type.String({ minLength: 1, maxLength: MAX_PATTERN_LENGTH }), {
      title: 'Exclude',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description:
        'Regular expressions (anchored at both ends) on the path relative to the route (as for `include`) where the plugin does not run.',
    }),
    config: Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), {
      title: 'Configuration',
      default: {},
      maxProperties: MAX_MAP_ENTRIES,
      description: "The plugin's configuration; validated against its schema.",
    }),
  },
  { additionalProperties: false },
);
export type PluginInstance = Static<typeof PluginInstanceSchema>;

const DOMAIN_PATTERN =
  '^(\\*|(\\*\\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*)(/[^\\s?#]*)?$';
const METHOD_PATTERN = '^[A-Z]+$';

export const TargetSchema = Type.Object(
  {
    url: Type.String({
      title: 'URL',
      pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
      maxLength: 2000,
      description:
        'Base URL of the upstream, e.g. `http://127.0.0.1:3000`; a path is prefixed to every forwarded path.',
    }),
    weight: Type.Integer({
      title: 'Weight',
      minimum: 1,
      maximum: 1000,
      default: 1,
      description: 'Relative share of the traffic (weighted round robin).',
    }),
    // optional: data files written before this field existed must still load
    tls: Type.Optional(
      Type.Object(UpstreamTlsSchema.properties, {
        title: 'TLS',
        additionalProperties: false,
        description: "TLS to this target, replacing the route's `backend.tls` as a whole.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RouteSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId },
    name: Type.String({ title: 'Name', minLength: 1, maxLength: 200, description: 'Human-readable name.' }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    enabled: Type.Boolean({ title: 'Enabled', default: true, description: 'A disabled route matches nothing.' }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      title: 'Tags',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Free labels; API keys can be authorized for `tag:<name>`.',
    }),
    frontend: Type.Object(
      {
        domains: Type.Array(Type.String({ pattern: DOMAIN_PATTERN, maxLength: 2000 }), {
          title: 'Domains',
          minItems: 1,
          maxItems: MAX_LIST_ITEMS,
          description:
            'Hosts this route answers: `api.example.com`, `*.example.com`, `*`, optionally with a path prefix (`example.com/v1`).',
        }),
        methods: Type.Array(Type.String({ pattern: METHOD_PATTERN, maxLength: 32 }), {
          title: 'Methods',
          default: [],
          maxItems: 32,
          description: 'Allowed methods; empty means any.',
        }),
        exact: Type.Boolean({
          title: 'Exact path',
          default: false,
          description: 'Match the domain path exactly instead of as a prefix.',
        }),
        stripPath: Type.Boolean({
          title: 'Strip path',
          default: true,
          description: 'Remove the matched path prefix before forwarding.',
        }),
        // optional: data files written before this field existed must still load
        caseSensitive: Type.Optional(
          Type.Boolean({
            title: 'Case sensitive',
            default: true,
            description:
              'Match the path prefix, plugin include/exclude and access rules case-sensitively; turn off for upstreams that ignore case (IIS, …) so `/ADMIN` cannot slip past a rule for `/admin`.',
          }),
        ),
        // optional: data files written before this field existed must still load
        allowPathParameters: Type.Optional(
          Type.Boolean({
            title: 'Allow path parameters',
            default: false,
            description:
              'Accept `;` path parameters (`/orders;jsessionid=1/42`): they are removed before routing, so access rules and plugin include/exclude match, and the upstream receives, the path without them. Off: such a path is refused with 400, since servlet containers read `/admin;x` as `/admin`. An encoded `;` (`%3B`) is refused either way.',
          }),
        ),
        headers: Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 4000 }), {
          title: 'Headers',
          default: {},
          maxProperties: MAX_MAP_ENTRIES,
          description: 'Request headers that must be present with these exact values.',
        }),
        query: Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 4000 }), {
          title: 'Query parameters',
          default: {},
          maxProperties: MAX_MAP_ENTRIES,
          description: 'Query parameters that must be present with these exact values.',
        }),
      },
      { title: 'Frontend', additionalProperties: false, default: {} },
    ),
    // optional: data files written before this field existed must still load
    mode: Type.Optional(
      Type.Union([Type.Literal('proxy'), Type.Literal('authorizer')], {
        title: 'Mode',
        default: 'proxy',
        description:
          '`proxy`: the gateway forwards matching requests to the backend (the authorizer listener, when on, also answers for them); `authorizer`: no backend, only the authorizer listener serves the route (an ingress asks it, then serves the request itself).',
      }),
    ),
    backend: Type.Optional(
      Type.Object(
        {
          targets: Type.Array(TargetSchema, {
            title: 'Targets',
            minItems: 1,
            maxItems: MAX_LIST_ITEMS,
            description: 'Upstream servers; a target that refuses the connection is skipped for the next.',
          }),
          rewriteHost: Type.Boolean({
            title: 'Rewrite host',
            default: true,
            description: "Send the target's host as `Host` (otherwise the client's).",
          }),
          tls: Type.Optional({ title: 'TLS', ...UpstreamTlsSchema }),
          timeouts: Type.Object(
            {
              connectMs: Type.Integer({
                title: 'Connect timeout (ms)',
                minimum: 1,
                maximum: 600_000,
                default: 5_000,
                description: 'Time to open a connection.',
              }),
              headersMs: Type.Integer({
                title: 'Headers timeout (ms)',
                minimum: 1,
                maximum: 3_600_000,
                default: 30_000,
                description: 'Time until the response headers arrive.',
              }),
              bodyMs: Type.Integer({
                title: 'Body timeout (ms)',
                minimum: 1,
                maximum: 3_600_000,
                default: 60_000,
                description: 'Longest pause between two chunks of the response body.',
              }),
            },
            { title: 'Timeouts', additionalProperties: false, default: {} },
          ),
        },
        {
          title: 'Backend',
          additionalProperties: false,
          description: 'Where matching requests go; required unless `mode` is `authorizer`.',
        },
      ),
    ),
    authorizer: Type.Optional(
      Type.Object(
        {
          user: Type.Boolean({
            title: 'User',
            default: false,
            description:
              'Answer `X-Auth-Request-User`: the consumer the access plugins identified (API key client id, token subject).',
          }),
          emailHeader: Type.Optional(
            Type.String({
              title: 'Email header',
              pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
              maxLength: 200,
              description:
                'An upstream header the plugins set (e.g. `X-Authenticated-Email` from `jwt-verifier` claims-to-headers) answered as `X-Auth-Request-Email`.',
            }),
          ),
          accessToken: Type.Boolean({
            title: 'Access token',
            default: false,
            description:
              'Answer `X-Auth-Request-Access-Token`: the bearer token the upstream would receive (after `jwt-verifier` re-signing).',
          }),
        },
        {
          title: 'Authorizer',
          additionalProperties: false,
          description:
            'Identity headers the authorizer listener answers for this route, besides the upstream headers its plugins set (oauth2-proxy names).',
        },
      ),
    ),
    plugins: Type.Array(PluginInstanceSchema, {
      title: 'Plugins',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Plugins run on this route, after the global ones; an instance of a global plugin replaces it here.',
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type Route = Static<typeof RouteSchema>;

export const GlobalConfigSchema = Type.Object(
  {
    plugins: Type.Array(PluginInstanceSchema, {
      title: 'Plugins',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Plugins run on every route (sinks run before routing).',
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type GlobalConfig = Static<typeof GlobalConfigSchema>;
export const GLOBAL_CONFIG_ID = 'global';

/** Anything stored: an object with its metadata. */
export type StoredEntity = Record<string, unknown> & { version?: number; createdAt?: string; updatedAt?: string };

/** A reference from one entity to another, as its kind declares it. */
export interface EntityReference {
  /** Kind (collection name) of the referenced entity. */
  readonly kind: string;
  readonly id: string;
  /** JSON pointer to the field holding the reference, relative to the referring entity. */
  readonly path: string;
}

/** What a kind's `references` may ask for: references held in plugin configurations. */
export interface ReferenceContext {
  /** The references of plugin instances (each plugin declares those of its config), paths under `prefix`. */
  pluginReferences(instances: readonly PluginInstance[], prefix: string): EntityReference[];
}

export interface EntityKind<S extends TSchema = TSchema> {
  /** Collection name, also the admin API path segment: `routes`, `apikeys`… */
  readonly name: string;
  /** Singular noun for messages: `route`. */
  readonly title: string;
  readonly schema: S;
  readonly validator: Validator<S>;
  /** Property holding the id. */
  readonly idField: string;
  /** For a kind with exactly one entity (global config): its id. */
  readonly singletonId?: string;
  /** Whether a change must recompile the route pipelines (false for high-volume kinds like API keys). */
  readonly affectsPipelines: boolean;
  /** The value of a singleton before anything was written. */
  readonly initial?: () => Static<S>;
  /**
   * The entities this one refers to. The EntityService checks on every write that they exist and
   * refuses to delete an entity while anything refers to it.
   */
  references?(entity: Static<S>, ctx: ReferenceContext): EntityReference[];
}

export function defineEntityKind<S extends TSchema>(kind: Omit<EntityKind<S>, 'validator'>): EntityKind<S> {
  return { ...kind, validator: compileValidator(kind.schema) };
}

export const ROUTES = defineEntityKind({
  name: 'routes',
  title: 'route',
  schema: RouteSchema,
  idField: 'id',
  affectsPipelines: true,
  references: (route, ctx) => ctx.pluginReferences(route.plugins ?? [], '/plugins'),
});
export const GLOBAL_CONFIG = defineEntityKind({
  name: 'global-config',
  title: 'global configuration',
  schema: GlobalConfigSchema,
  idField: 'id',
  singletonId: GLOBAL_CONFIG_ID,
  affectsPipelines: true,
  initial: () => ({ plugins: [] }),
  references: (global, ctx) => ctx.pluginReferences(global.plugins ?? [], '/plugins'),
});

/** The kinds known to this process: the core's and those registered by plugins. */
export class EntityRegistry {
  #kinds = new Map<string, EntityKind>();
  /** Kinds that older versions exported and that now live elsewhere (runtime state), with their importer. */
  readonly #retired = new Map<string, (items: readonly unknown[]) => Promise<void>>();

  constructor() {
    this.register(ROUTES);
    this.register(GLOBAL_CONFIG);
  }

  register(kind: EntityKind): void {
    if (this.#kinds.has(kind.name)) throw new Error(`Entity kind ${kind.name} is registered twice`);
    this.#kinds.set(kind.name, kind);
  }

  /** A kind of older versions that an import accepts and hands to `importer` (its data now lives elsewhere). */
  retire(name: string, importer: (items: readonly unknown[]) => Promise<void>): void {
    this.#retired.set(name, importer);
  }

  retiredImporter(name: string): ((items: readonly unknown[]) => Promise<void>) | undefined {
    return this.#retired.get(name);
  }

  get(name: string): EntityKind | undefined {
    return this.#kinds.get(name);
  }
  has(name: string): boolean {
    return this.#kinds.has(name);
  }
  all(): EntityKind[] {
    return [...this.#kinds.values()];
  }

  /**
   * What the validity of stored entities depends on: every registered kind's name and schema, and
   * the release (its format checkers, its validator compiler). A data file sealed with this value
   * holds entities validated against exactly these (`lowdb-store.ts` skips validating it again).
   */
  fingerprint(): string {
    const hash = createHash('sha256').update(RELEASE);
    const kinds = [...this.#kinds.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const kind of kinds) hash.update(`\0${kind.name}\0${JSON.stringify(kind.schema)}`);
    return hash.digest('hex');
  }
}

/** The installed release (package.json sits three folders above dist/core/config/); read once. */
const RELEASE = ((): string => {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return `portcullis@${String(manifest.version)}`;
  } catch {
    return 'portcullis@unknown';
  }
})();
