/**
 * Configuration warnings: what the gateway accepts and will run, but not as its author most likely
 * expects. A warning never refuses a write; the admin API lists them (`GET /api/warnings`), adds
 * those a route or global-configuration write concerns to its response, and the back office shows
 * them beside the field they name, with a one-click fix where one exists.
 *
 * - `duplicate-route-match`: a route whose domain (host and path prefix), methods and conditions
 *   another enabled route already serves: the router sends every such request to one of them (the
 *   first by id), so the other never sees it.
 * - `https-only-without-https`: a plugin switch that answers over HTTPS only (declared by its schema
 *   with `HTTPS_ONLY`: `client-credentials`' `secure`, `oauth2`'s `requireHttps`) is on, while the
 *   gateway has no HTTPS listener (`proxy.tls`) and trusts no TLS-terminating proxy
 *   (`proxy.trustedProxies`): every call is refused "only served over HTTPS".
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  GLOBAL_CONFIG,
  GLOBAL_CONFIG_ID,
  ROUTES,
  type GlobalConfig,
  type PluginInstance,
  type Route,
} from '../config/entities.js';
import { routeDomain } from '../config/request-path.js';

/**
 * Schema keyword of a plugin's boolean config field that, when true, makes its endpoints answer
 * over HTTPS only (ignored by validation): `Type.Boolean({ default: true, ...HTTPS_ONLY })`.
 */
export const HTTPS_ONLY = { 'x-https-only': true } as const;

const Location = {
  kind: Type.String({ description: 'The entity kind (`routes`, `global-config`).' }),
  id: Type.String({ description: 'The entity id.' }),
  path: Type.String({ description: 'JSON pointer of the field concerned, inside the entity.' }),
};

/** A warning as the admin API answers it (`GET /api/warnings`, a write's `warnings`). */
export const ConfigWarningSchema = Type.Object({
  code: Type.Union([Type.Literal('duplicate-route-match'), Type.Literal('https-only-without-https')]),
  ...Location,
  message: Type.String({ description: 'What will happen and what to do, in words.' }),
  related: Type.Array(Type.Object(Location), {
    description: 'The other entities involved (the route that serves the requests instead).',
  }),
  fix: Type.Optional(
    Type.Object(
      {
        label: Type.String(),
        patch: Type.Array(Type.Object({ op: Type.Literal('add'), path: Type.String(), value: Type.Unknown() }), {
          description: 'JSON Patch (RFC 6902) of the entity the warning is on.',
        }),
      },
      { description: 'A change of the entity that removes the warning, when one is safe to offer.' },
    ),
  ),
});
export type ConfigWarning = Static<typeof ConfigWarningSchema>;
export type WarningLocation = ConfigWarning['related'][number];

/** What the gateway's boot configuration says about HTTPS reaching it. */
export interface HttpsReach {
  /** The proxy has an HTTPS listener (`proxy.tls`). */
  listener: boolean;
  /** Some TLS-terminating proxy is trusted (`proxy.trustedProxies`), whose `X-Forwarded-Proto` counts. */
  trustedProxies: boolean;
}

export interface WarningSources {
  routes: readonly Route[];
  global: GlobalConfig | undefined;
  /** A plugin's config schema by id (the catalog's), undefined for an unknown plugin. */
  configSchema: (pluginId: string) => TSchema | undefined;
  https: HttpsReach;
}

/** Every warning of a configuration, routes first. */
export function configurationWarnings(sources: WarningSources): ConfigWarning[] {
  return [...duplicateRouteMatches(sources.routes), ...httpsOnlyWarnings(sources)];
}

/** The warnings a write of this entity concerns: on it, or naming it as the other side. */
export function warningsConcerning(warnings: readonly ConfigWarning[], kind: string, id: string): ConfigWarning[] {
  const concerns = (l: WarningLocation) => l.kind === kind && l.id === id;
  return warnings.filter((w) => concerns(w) || w.related.some(concerns));
}

interface Binding {
  route: Route;
  index: number;
  domain: string;
}

/**
 * Routes binding the same host and path prefix with overlapping methods and the same header and
 * query conditions. The router's precedence for equal bindings is the route id, so the later id is
 * the one never reached; the warning sits on its domain and names the route that answers.
 */
export function duplicateRouteMatches(routes: readonly Route[]): ConfigWarning[] {
  const byBinding = new Map<string, Binding[]>();
  for (const route of routes) {
    if (route.enabled === false) continue;
    route.frontend.domains.forEach((domain, index) => {
      const key = bindingKey(route, domain);
      const list = byBinding.get(key) ?? [];
      list.push({ route, index, domain });
      byBinding.set(key, list);
    });
  }
  const warnings: ConfigWarning[] = [];
  for (const list of byBinding.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0));
    list.forEach((later, i) => {
      const earlier = list
        .slice(0, i)
        .find((e) => e.route.id !== later.route.id && methodsOverlap(e.route, later.route));
      if (earlier) warnings.push(duplicateWarning(earlier, later));
    });
  }
  return warnings;
}

function duplicateWarning(served: Binding, shadowed: Binding): ConfigWarning {
  const { route } = shadowed;
  return {
    code: 'duplicate-route-match',
    kind: ROUTES.name,
    id: route.id,
    path: `/frontend/domains/${shadowed.index}`,
    message:
      `Route "${served.route.id}" already serves ${served.domain}${sharedMethodsText(served.route, route)}: requests there go to "${served.route.id}" ` +
      `(the first by id), never to "${route.id}". Give one of them another host or path, other methods, or a header or query condition.`,
    related: [{ kind: ROUTES.name, id: served.route.id, path: `/frontend/domains/${served.index}` }],
  };
}

/** Host (lower case), normalized path prefix, exactness and conditions: what makes two bindings equal for the router. */
function bindingKey(route: Route, domain: string): string {
  const { frontend } = route;
  const { host, prefix: matched } = routeDomain(domain);
  const prefix = frontend.caseSensitive === false ? matched.toLowerCase() : matched;
  const conditions = (record: Record<string, string> | undefined, lower: boolean) =>
    Object.entries(record ?? {})
      .map(([k, v]) => [lower ? k.toLowerCase() : k, v])
      .sort(([a], [b]) => (a! < b! ? -1 : 1));
  return JSON.stringify([
    host,
    prefix,
    frontend.exact ?? false,
    conditions(frontend.headers, true),
    conditions(frontend.query, false),
  ]);
}

function methodsOverlap(a: Route, b: Route): boolean {
  const left = a.frontend.methods ?? [];
  const right = b.frontend.methods ?? [];
  return left.length === 0 || right.length === 0 || left.some((m) => right.includes(m));
}

/** The methods both routes answer (" for GET, POST"), nothing when both answer any. */
function sharedMethodsText(a: Route, b: Route): string {
  const left = a.frontend.methods ?? [];
  const right = b.frontend.methods ?? [];
  const shared = left.length === 0 ? right : right.length === 0 ? left : left.filter((m) => right.includes(m));
  return shared.length === 0 ? '' : ` for ${shared.join(', ')}`;
}

/** HTTPS-only switches that are on (by their value or their default) where no HTTPS can reach the gateway. */
function httpsOnlyWarnings(sources: WarningSources): ConfigWarning[] {
  if (sources.https.listener || sources.https.trustedProxies) return [];
  const warnings: ConfigWarning[] = [];
  const scan = (kind: string, id: string, plugins: readonly PluginInstance[] | undefined) =>
    (plugins ?? []).forEach((instance, index) => {
      if (instance.enabled === false) return;
      for (const field of httpsOnlyFieldsOn(instance, sources.configSchema(instance.plugin)))
        warnings.push(httpsOnlyWarning({ kind, id, path: `/plugins/${index}/config` }, instance, field));
    });
  scan(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID, sources.global?.plugins);
  for (const route of sources.routes) if (route.enabled !== false) scan(ROUTES.name, route.id, route.plugins);
  return warnings;
}

function httpsOnlyFieldsOn(instance: PluginInstance, schema: TSchema | undefined): string[] {
  const properties = (schema?.properties ?? {}) as Record<string, TSchema>;
  const config = (instance.config ?? {}) as Record<string, unknown>;
  return Object.entries(properties)
    .filter(([name, field]) => field['x-https-only'] === true && (config[name] ?? field.default) === true)
    .map(([name]) => name);
}

function httpsOnlyWarning(at: WarningLocation, instance: PluginInstance, field: string): ConfigWarning {
  // An instance stored without a config gets one holding the switch alone (the rest are defaults).
  const fix = instance.config
    ? { op: 'add' as const, path: `${at.path}/${field}`, value: false }
    : { op: 'add' as const, path: at.path, value: { [field]: false } };
  return {
    code: 'https-only-without-https',
    ...at,
    path: `${at.path}/${field}`,
    message:
      `The ${instance.plugin} plugin answers over HTTPS only ("${field}" is on), but this gateway has no HTTPS listener ` +
      `(proxy.tls) and trusts no TLS-terminating proxy (proxy.trustedProxies): every call will be refused ` +
      `"only served over HTTPS". In production, give the proxy an HTTPS listener or declare the proxy that ` +
      `terminates TLS in proxy.trustedProxies; for plain HTTP (development), turn "${field}" off.`,
    related: [],
    fix: { label: `Turn "${field}" off (plain HTTP)`, patch: [fix] },
  };
}
