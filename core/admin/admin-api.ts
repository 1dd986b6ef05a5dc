/**
 * The admin API: JSON over HTTP, everything under `/api` behind the admin credentials (HTTP Basic)
 * or, for the endpoints that name its scopes, an API token (`Authorization: Bearer`, api-tokens.ts).
 * Core endpoints (routes, global config, plugin catalog, import/export) and the endpoints plugins
 * contribute as `AdminExtension`s share one router, one body reader and one error boundary.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Type, type TInteger, type TProperties, type TSchema } from '@sinclair/typebox';
import { injectable, inject, injectAll } from 'tsyringe';
import { ADMIN_EXTENSIONS, BOOT_CONFIG, LOGGER, STATE_STORE } from '../tokens.js';
import type { BootConfig } from '../config/boot-config.js';
import type { StateStore } from '../state/state-store.js';
import {
  AdminUnauthorizedError,
  BadRequestError,
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  TokenScopeError,
} from '../errors.js';
import { hasRequestBody, isServerFault, readJsonBody, sendError, sendJson } from '../http/http-utils.js';
import { EntityService, withRevealed } from '../config/entity-service.js';
import { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import {
  EntityRegistry,
  GLOBAL_CONFIG,
  GlobalConfigSchema,
  MAX_LIST_ITEMS,
  PluginInstanceSchema,
  ROUTES,
} from '../config/entities.js';
import { compileValidator } from '../config/schema.js';
import { openApiDocument } from './openapi.js';
import {
  LOGIN_ATTEMPTS_NAMESPACE,
  LoginLimiter,
  checkLogin,
  parseBasicAuth,
  safeEqual,
  AdminAuthenticator,
} from './admin-auth.js';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE } from '../metrics/exposition.js';
import {
  ADMIN_CALLER,
  type AdminCaller,
  type AdminExtension,
  type AdminRequest,
  type AdminResult,
  type AdminRoute,
} from './extensions.js';
import { API_TOKEN_KIND, authenticateApiToken, type ApiToken } from './api-tokens.js';
import { ConfigWarnings, answerWithWarnings, withWarnings, withoutWarnings } from './config-warnings.js';
import type { ConfigWarning } from '../compiler/warnings.js';

export const ADMIN_BODY_LIMIT = 1024 * 1024;
/** The admin API's version in its OpenAPI document. */
export const API_VERSION = '0.1.0';

interface CompiledAdminRoute extends AdminRoute {
  segments: string[];
}

/** Paging of every entity list: the bounds `intParam` enforces and the document shows. */
const OFFSET = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  default: 0,
  description: 'Entities to skip.',
});
const LIMIT = Type.Integer({
  minimum: 1,
  maximum: 10_000,
  default: 1000,
  description: 'Most entities returned; the header `X-Total-Count` gives the number that match.',
});
/** A draft's plugin instances, route (`global: false`) or global, for `POST /api/plugins/summaries`. */
const SummariesRequestSchema = Type.Object(
  {
    plugins: Type.Array(PluginInstanceSchema, { maxItems: MAX_LIST_ITEMS }),
    global: Type.Boolean({ default: false, description: 'Whether the instances are global ones (sinks allowed).' }),
  },
  { additionalProperties: false },
);
const summariesValidator = compileValidator(SummariesRequestSchema);
const InstanceSummarySchema = Type.Object({
  plugin: Type.String(),
  summary: Type.Union([Type.String(), Type.Null()], {
    description: 'What the instance does; null when its configuration has problems.',
  }),
  problems: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
});

/** The list filters of routes and API keys (`matchesTag`, `matchesEnabled`). */
export const TAG_FILTER = { tag: Type.String({ description: 'Only entities with this tag.' }) };
export const ENABLED_FILTER = {
  enabled: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    description: 'Only enabled (`true`) or disabled (`false`) entities.',
  }),
};

interface EntityRouteOptions {
  filter?: (query: URLSearchParams) => ((entity: Record<string, unknown>) => boolean) | null;
  filterQuery?: TProperties;
  /** The warnings a write of this entity concerns, added to its answer (`config-warnings.ts`). */
  warnings?: (id: string) => ConfigWarning[];
}

/** Standard CRUD endpoints for an entity kind, documented with the kind's schema. */
export function entityRoutes(
  entities: EntityService,
  kindName: string,
  options: EntityRouteOptions = {},
): AdminRoute[] {
  const kind = entities.kind(kindName);
  if (kind.singletonId) return [];
  const schema = kind.schema;
  const warned = options.warnings;
  const crud: Crud = {
    entities,
    kindName,
    base: `/api/${kindName}`,
    title: kind.title,
    schema,
    answer: warned ? answerWithWarnings(schema) : schema,
    body: async (r) => (warned ? withoutWarnings(await r.body()) : r.body()),
    answered: (entity, revealed) => {
      const shown = withRevealed(entities.present(kindName, entity), revealed);
      return warned ? withWarnings(shown, warned(String(entity[kind.idField]))) : shown;
    },
  };
  return [listRoute(crud, options), createRoute(crud), getRoute(crud), replaceRoute(crud), deleteRoute(crud)];
}

/** What every CRUD endpoint of one kind shares. */
interface Crud {
  entities: EntityService;
  kindName: string;
  base: string;
  title: string;
  schema: TSchema;
  /** The schema of a write's answer (the entity, with the warnings it concerns when the kind has any). */
  answer: TSchema;
  /** A write's body, without a `warnings` member sent back. */
  body: (r: AdminRequest) => Promise<unknown>;
  /** A write's answer: the entity as shown, the secrets just generated, the warnings. */
  answered: (entity: Record<string, unknown>, revealed: Map<string, string>) => unknown;
}

function listRoute({ entities, kindName, base, title, schema }: Crud, options: EntityRouteOptions): AdminRoute {
  return {
    method: 'GET',
    path: base,
    handler: ({ query }) => {
      let items = entities.list(kindName);
      const keep = options.filter?.(query);
      if (keep) items = items.filter(keep);
      const offset = intParam(query, 'offset', OFFSET);
      const limit = intParam(query, 'limit', LIMIT);
      const page = items.slice(offset, offset + limit).map((e) => entities.present(kindName, e));
      return { body: page, headers: { 'x-total-count': String(items.length) } };
    },
    doc: {
      summary: `List ${title}s`,
      query: Type.Object({
        offset: Type.Optional(OFFSET),
        limit: Type.Optional(LIMIT),
        ...partial(options.filterQuery ?? {}),
      }),
      responses: { 200: Type.Array(schema) },
    },
  };
}

function createRoute({ entities, kindName, base, title, schema, answer, body, answered }: Crud): AdminRoute {
  return {
    method: 'POST',
    path: base,
    handler: async (r) => {
      const revealed = new Map<string, string>();
      const created = await entities.create(kindName, await body(r), { revealed });
      return { status: 201, body: answered(created, revealed) };
    },
    doc: {
      summary: `Create a ${title}`,
      description: 'Defaults are applied before validation; secrets are never returned.',
      body: schema,
      responses: { 201: answer },
    },
  };
}

function getRoute({ entities, kindName, base, title, schema }: Crud): AdminRoute {
  return {
    method: 'GET',
    path: `${base}/:id`,
    handler: ({ params }) => ({ body: entities.present(kindName, entities.get(kindName, params.id!)) }),
    doc: { summary: `Get a ${title}`, responses: { 200: schema } },
  };
}

function replaceRoute({ entities, kindName, base, title, schema, answer, body, answered }: Crud): AdminRoute {
  return {
    method: 'PUT',
    path: `${base}/:id`,
    handler: async (r) => {
      const revealed = new Map<string, string>();
      const updated = await entities.update(kindName, r.params.id!, await body(r), { revealed });
      return { body: answered(updated, revealed) };
    },
    doc: {
      summary: `Replace a ${title}`,
      description: 'Send `version` back to detect concurrent edits (409 when stale).',
      body: schema,
      responses: { 200: answer },
    },
  };
}

function deleteRoute({ entities, kindName, base, title }: Crud): AdminRoute {
  return {
    method: 'DELETE',
    path: `${base}/:id`,
    handler: async ({ params }) => {
      await entities.delete(kindName, params.id!);
      return { status: 204 };
    },
    doc: {
      summary: `Delete a ${title}`,
      description: 'Refused (409) while another entity refers to it.',
      responses: { 204: null },
    },
  };
}

function globalConfigRoutes(entities: EntityService, warnings: ConfigWarnings): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/global-config',
      handler: () => ({
        body: entities.present(GLOBAL_CONFIG.name, entities.get(GLOBAL_CONFIG.name, GLOBAL_CONFIG.singletonId!)),
      }),
      doc: { summary: 'Get the global configuration', responses: { 200: GlobalConfigSchema } },
    },
    {
      method: 'PUT',
      path: '/api/global-config',
      handler: async (r) => {
        const revealed = new Map<string, string>();
        const id = GLOBAL_CONFIG.singletonId!;
        const updated = await entities.update(GLOBAL_CONFIG.name, id, withoutWarnings(await r.body()), { revealed });
        const shown = withRevealed(entities.present(GLOBAL_CONFIG.name, updated), revealed);
        return { body: withWarnings(shown, warnings.concerning(GLOBAL_CONFIG.name, id)) };
      },
      doc: {
        summary: 'Replace the global configuration',
        description: 'Plugins run on every route; sinks (token endpoints) before routing.',
        body: GlobalConfigSchema,
        responses: { 200: answerWithWarnings(GlobalConfigSchema) },
      },
    },
  ];
}

/** `/api/openapi.json`: the document of every route the admin API serves, extensions included. */
function openApiRoute(routes: () => CompiledAdminRoute[]): AdminRoute {
  return {
    method: 'GET',
    path: '/api/openapi.json',
    handler: () => ({
      body: openApiDocument(routes(), { title: 'Portcullis admin API', version: API_VERSION }),
    }),
    doc: {
      summary: 'This document (OpenAPI 3.1)',
      responses: {
        200: Type.Object(
          {
            openapi: Type.Literal('3.1.0'),
            info: Type.Object({ title: Type.String(), version: Type.String() }),
            paths: Type.Record(Type.String(), Type.Object({})),
          },
          { description: 'The OpenAPI document of the admin API.' },
        ),
      },
    },
  };
}

/** The plugin catalog, instance summaries and the entity schemas the back office builds its forms from. */
function catalogRoutes(catalog: PluginCatalog, registry: EntityRegistry): AdminRoute[] {
  return [
    { method: 'GET', path: '/api/plugins', handler: () => ({ body: catalog.describe() }) },
    {
      method: 'POST',
      path: '/api/plugins/summaries',
      handler: async (r) => {
        const input = summariesValidator.parse(await r.body(), 'summaries request');
        return { body: catalog.summarize(input.plugins, input.global) };
      },
      doc: {
        summary: 'Say what plugin instances do',
        description:
          "One line per instance saying what it does with its configuration (the route designer's boxes), or the problems that keep it from running, paths relative to the instance. Nothing is stored.",
        body: SummariesRequestSchema,
        responses: { 200: Type.Array(InstanceSummarySchema) },
      },
    },
    {
      method: 'GET',
      path: '/api/schemas',
      handler: () => ({
        body: Object.fromEntries(
          registry
            .all()
            .map((k) => [
              k.name,
              { title: k.title, idField: k.idField, singleton: Boolean(k.singletonId), schema: k.schema },
            ]),
        ),
      }),
    },
  ];
}

function transferRoutes(entities: EntityService): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/export',
      handler: ({ query }) => ({
        body: entities.export({ includePrivateKeys: query.get('includePrivateKeys') === 'true' }),
        headers: { 'content-disposition': 'attachment; filename="portcullis-export.json"' },
      }),
    },
    {
      method: 'POST',
      path: '/api/import',
      handler: async (r) => ({ body: { imported: await entities.import(await r.body()) } }),
    },
  ];
}

function partial(properties: TProperties): TProperties {
  return Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, Type.Optional(schema)]));
}

export function intParam(query: URLSearchParams, name: string, schema: TInteger): number {
  const raw = query.get(name);
  if (raw === null) return schema.default as number;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < schema.minimum! || value > schema.maximum!)
    throw new BadRequestError(
      `Query parameter "${name}" must be an integer between ${schema.minimum} and ${schema.maximum}`,
    );
  return value;
}

/** What the admin API serves from the rest of the gateway, known when the gateway assembles it. */
export class AdminApiSources {
  constructor(
    /** Checks the admin password (the stored hash). */
    readonly authenticator: AdminAuthenticator,
    /** Why the gateway is not ready (`/ready`), empty when it is. */
    readonly readiness: () => string[],
    /** This process's Prometheus exposition (`/metrics`). */
    readonly metrics: () => Promise<string>,
  ) {}
}

@injectable()
export class AdminApi {
  readonly #routes: CompiledAdminRoute[] = [];
  readonly #log: Logger;
  readonly #findToken: (id: string) => ApiToken | undefined;
  readonly #auth: AdminAuthenticator;
  readonly #readiness: () => string[];
  /** The Prometheus exposition `/metrics` answers (this process's, or a cluster's merged). */
  readonly #metrics: () => Promise<string>;
  readonly #metricsToken: string | null;
  /** Basic credentials that needed a password hash, per address: 20 unsuccessful a minute, then 429. */
  readonly #limiter: LoginLimiter;

  constructor(
    entities: EntityService,
    catalog: PluginCatalog,
    registry: EntityRegistry,
    @inject(LOGGER) log: Logger,
    @inject(STATE_STORE) state: StateStore,
    @inject(BOOT_CONFIG) config: BootConfig,
    @injectAll(ADMIN_EXTENSIONS, { isOptional: true }) extensions: AdminExtension[],
    sources: AdminApiSources,
  ) {
    this.#auth = sources.authenticator;
    this.#readiness = sources.readiness;
    this.#metrics = sources.metrics;
    this.#metricsToken = config.metrics.token ?? null;
    this.#limiter = new LoginLimiter(state.namespace(LOGIN_ATTEMPTS_NAMESPACE), 'api|', 20, 60);
    this.#log = log.child({ component: 'admin' });
    this.#findToken = (id) => {
      if (!registry.has(API_TOKEN_KIND.name)) return undefined;
      try {
        return entities.get(API_TOKEN_KIND, id);
      } catch {
        return undefined;
      }
    };
    const warnings = new ConfigWarnings(entities, catalog, config);
    const core: AdminRoute[] = [
      ...entityRoutes(entities, ROUTES.name, {
        filter: (q) => (route) => matchesTag(route, q) && matchesEnabled(route, q),
        filterQuery: { ...TAG_FILTER, ...ENABLED_FILTER },
        warnings: (id) => warnings.concerning(ROUTES.name, id),
      }),
      ...warnings.routes(),
      ...globalConfigRoutes(entities, warnings),
      openApiRoute(() => this.#routes),
      ...catalogRoutes(catalog, registry),
      ...transferRoutes(entities),
    ];
    for (const route of [...core, ...(extensions ?? []).flatMap((e) => e.routes())]) this.add(route);
  }

  /** Every endpoint, in matching order (what the OpenAPI document lists). */
  get routes(): readonly AdminRoute[] {
    return this.#routes;
  }

  add(route: AdminRoute): void {
    this.#routes.push({ ...route, segments: route.path.split('/').slice(1) });
  }

  /** Handle a request if it is for the API; false when the path is not ours (the back office serves it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (url.pathname === '/health') {
      sendJson(res, 200, { status: 'ok' }, { 'cache-control': 'no-store' });
      return true;
    }
    if (url.pathname === '/ready') {
      const problems = this.#readiness();
      sendJson(
        res,
        problems.length === 0 ? 200 : 503,
        problems.length === 0 ? { status: 'ready' } : { status: 'not_ready', problems },
        { 'cache-control': 'no-store' },
      );
      return true;
    }
    if (url.pathname === '/metrics') {
      this.#guard(req, url, this.#serveMetrics(req, res), res);
      return true;
    }
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return false;
    this.#guard(req, url, this.#dispatch(req, res, url), res);
    return true;
  }

  #guard(req: IncomingMessage, url: URL, handling: Promise<void>, res: ServerResponse): void {
    handling.catch((error: unknown) => {
      if (isServerFault(error))
        this.#log.error({ err: error, method: req.method, path: url.pathname }, 'admin request failed');
      else
        this.#log.debug(
          { method: req.method, path: url.pathname, error: (error as Error).message },
          'admin request refused',
        );
      sendError(res, error);
    });
  }

  /**
   * `GET /metrics`: the Prometheus exposition, for the metrics token (`Authorization: Bearer`, when
   * `metrics.token` is set) or the admin credentials; an API token's scopes never include it.
   */
  async #serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers.authorization;
    const bearer =
      this.#metricsToken !== null &&
      header !== undefined &&
      /^bearer /i.test(header) &&
      safeEqual(header.slice(7).trim(), this.#metricsToken);
    if (!bearer) {
      const caller = await this.#authenticate(req);
      if (caller.kind === 'token') {
        req.resume();
        throw new TokenScopeError('An API token may not read /metrics: use the admin credentials or metrics.token');
      }
    }
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(['GET', 'HEAD']);
    const body = await this.#metrics();
    res.writeHead(200, {
      'content-type': METRICS_CONTENT_TYPE,
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (isCrossSiteWrite(req)) {
      req.resume();
      throw new ForbiddenError('Cross-origin requests are not accepted');
    }
    const caller = await this.#authenticate(req);
    const hasBody = hasRequestBody(req);
    let result: AdminResult;
    try {
      result = await this.#route(req.method ?? 'GET', url, {
        req,
        caller,
        body: () => readJsonBody(req, ADMIN_BODY_LIMIT),
        optionalBody: () => (hasBody ? readJsonBody(req, ADMIN_BODY_LIMIT) : Promise.resolve(undefined)),
      });
    } finally {
      if (!req.readableEnded) req.resume();
    }
    const status = result.status ?? 200;
    if (status === 204) {
      res.writeHead(204, { 'cache-control': 'no-store', ...result.headers });
      res.end();
    } else {
      sendJson(res, status, result.body, { 'cache-control': 'no-store', ...result.headers });
    }
  }

  /**
   * The admin (HTTP Basic) or an API token (Bearer; its secret is never logged: only the token id
   * reaches the request's context). A token is a 256-bit random secret checked by one SHA-256, so
   * it needs neither the login limiter nor the hashing gate that the admin password does.
   */
  async #authenticate(req: IncomingMessage): Promise<AdminCaller> {
    const header = req.headers.authorization;
    if (header !== undefined && header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ') {
      const caller = authenticateApiToken(this.#findToken, header.slice(7).trim());
      if (caller === null) {
        req.resume();
        throw new AdminUnauthorizedError();
      }
      return caller;
    }
    const credentials = parseBasicAuth(header);
    // A request without credentials is not a guess: 401 without counting or hashing.
    const authenticated =
      credentials !== null &&
      (await checkLogin(
        this.#auth,
        this.#limiter,
        req.socket.remoteAddress ?? '',
        credentials.user,
        credentials.password,
      ).catch((error: unknown) => {
        req.resume();
        throw error;
      }));
    if (!authenticated) {
      req.resume();
      throw new AdminUnauthorizedError();
    }
    return ADMIN_CALLER;
  }

  /**
   * Run an admin endpoint without HTTP (the back office's WebSocket): the same routes, validation
   * and errors as the REST API. The caller has authenticated already.
   */
  invoke(method: string, pathAndQuery: string, payload?: unknown): Promise<AdminResult> {
    const url = new URL(pathAndQuery, 'http://admin');
    return this.#route(method, url, {
      req: null,
      caller: ADMIN_CALLER,
      body: () =>
        payload === undefined
          ? Promise.reject(new BadRequestError('A JSON payload is required'))
          : Promise.resolve(payload),
      optionalBody: () => Promise.resolve(payload),
    });
  }

  async #route(
    method: string,
    url: URL,
    io: Pick<AdminRequest, 'req' | 'caller' | 'body' | 'optionalBody'>,
  ): Promise<AdminResult> {
    const segments = url.pathname.replace(/\/+$/, '').split('/').slice(1);
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const caller = io.caller;
      if (caller.kind === 'token' && !route.scopes?.some((scope) => caller.scopes.includes(scope))) {
        throw new TokenScopeError(
          `This API token (scopes: ${caller.scopes.join(', ')}) may not call ${method} ${route.path}`,
        );
      }
      return route.handler({ ...io, params, query: url.searchParams });
    }
    if (allowed.length > 0) throw new MethodNotAllowedError([...new Set(allowed)]);
    throw new NotFoundError(`No admin endpoint ${method} ${url.pathname}`);
  }
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(actual[i]!);
      } catch {
        return null;
      }
      if (value === '') return null;
      params[p.slice(1)] = value;
    } else if (p !== actual[i]) return null;
  }
  return params;
}

function matchesTag(entity: Record<string, unknown>, query: URLSearchParams): boolean {
  const tag = query.get('tag');
  return tag === null || (Array.isArray(entity.tags) && entity.tags.includes(tag));
}

function matchesEnabled(entity: Record<string, unknown>, query: URLSearchParams): boolean {
  const enabled = query.get('enabled');
  return enabled === null || String(entity.enabled !== false) === enabled;
}

export { matchesTag, matchesEnabled };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write a browser sent on behalf of another site's page. Browsers cache HTTP Basic credentials
 * and attach them to any request to this origin, so a foreign `<form method=post>` (no body needed
 * for actions such as a key rotation) would otherwise be authenticated. Browsers send `Origin` on
 * every cross-origin POST and `Sec-Fetch-Site` on every request; clients without them (curl,
 * scripts) are not browsers and are not affected. The host alone is compared: behind a TLS-ending
 * proxy the listener sees http while the page is https.
 */
function isCrossSiteWrite(req: IncomingMessage): boolean {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return false;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true; // `null` (sandboxed frames, privacy-sensitive redirects) and anything unreadable
  }
}
