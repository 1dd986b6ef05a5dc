/**
 * The configuration's warnings on the admin API (core/compiler/warnings.ts says which and why):
 * `GET /api/warnings` lists them, `POST /api/warnings/route` answers them for a route draft before
 * it is saved (the designer), and a route or global-configuration write carries those it concerns
 * in `warnings` (the write is accepted all the same; a `warnings` sent back in a body is ignored, so
 * a write's answer can be edited and sent again).
 */
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { BootConfig } from '../config/boot-config.js';
import { GLOBAL_CONFIG, ROUTES, RouteSchema, type Route } from '../config/entities.js';
import type { EntityService } from '../config/entity-service.js';
import type { PluginCatalog } from '../plugin-runtime/plugin-catalog.js';
import { compileValidator } from '../config/schema.js';
import {
  configurationWarnings,
  warningsConcerning,
  ConfigWarningSchema,
  type ConfigWarning,
} from '../compiler/warnings.js';
import type { AdminRoute } from './extensions.js';

const WarningList = Type.Array(ConfigWarningSchema);
const draftValidator = compileValidator(RouteSchema);

export class ConfigWarnings {
  readonly #entities: EntityService;
  readonly #catalog: PluginCatalog;
  readonly #https: { listener: boolean; trustedProxies: boolean };

  constructor(entities: EntityService, catalog: PluginCatalog, config: BootConfig) {
    this.#entities = entities;
    this.#catalog = catalog;
    this.#https = { listener: Boolean(config.proxy.tls), trustedProxies: config.proxy.trustedProxies.length > 0 };
  }

  /** Every warning of the stored configuration, or of it with `draft` in place of the route of its id. */
  all(draft?: Route): ConfigWarning[] {
    const stored = this.#entities.list(ROUTES);
    const routes = draft ? [...stored.filter((r) => r.id !== draft.id), draft] : stored;
    return configurationWarnings({
      routes,
      global: this.#entities.list(GLOBAL_CONFIG)[0],
      configSchema: (id) => this.#catalog.get(id)?.configSchema,
      https: this.#https,
    });
  }

  /** The warnings on or naming one entity. */
  concerning(kind: string, id: string): ConfigWarning[] {
    return warningsConcerning(this.all(), kind, id);
  }

  routes(): AdminRoute[] {
    return [
      {
        method: 'GET',
        path: '/api/warnings',
        handler: () => ({ body: this.all() }),
        doc: {
          summary: 'List the configuration warnings',
          description:
            'What the gateway accepts and runs, but most likely not as meant: a route whose domain and path another enabled route already serves (`duplicate-route-match`), an HTTPS-only plugin switch on a gateway that no HTTPS reaches (`https-only-without-https`, with a `fix`).',
          responses: { 200: WarningList },
        },
      },
      {
        method: 'POST',
        path: '/api/warnings/route',
        handler: async (r) => {
          const draft = draftValidator.parse(await r.body(), 'route') as Route;
          return { body: warningsConcerning(this.all(draft), ROUTES.name, draft.id) };
        },
        doc: {
          summary: "Say what a route draft's warnings would be",
          description:
            'The warnings that would concern this route once saved, in place of the stored one of its id. Nothing is stored.',
          body: RouteSchema,
          responses: { 200: WarningList },
        },
      },
    ];
  }
}

/** A write's body without the `warnings` an earlier answer carried. */
export function withoutWarnings(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('warnings' in body)) return body;
  const { warnings: _ignored, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** A write's answer with the warnings it concerns, when there are any. */
export function withWarnings<T extends object>(body: T, warnings: readonly ConfigWarning[]): T {
  return warnings.length === 0 ? body : { ...body, warnings };
}

/** The schema of a write's answer: the entity's, plus `warnings`. */
export function answerWithWarnings(schema: TSchema): TSchema {
  const object = schema as TObject;
  return {
    ...object,
    properties: {
      ...object.properties,
      warnings: Type.Optional(
        Type.Array(ConfigWarningSchema, { description: 'The warnings this write concerns (absent when none).' }),
      ),
    },
  };
}
