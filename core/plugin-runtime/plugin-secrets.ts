/**
 * Write-only secrets in plugin configurations (the `oauth2` provision key, and any plugin's like
 * it). A config property whose schema says `writeOnly: true` (JSON Schema; `writeOnlySecret()`
 * declares one) is handled by the core's write path, so no plugin stores or shows a plaintext:
 *
 * - absent on create: generated (32 random bytes, base64url) and revealed once, in the write's response;
 * - absent on update: the stored value is kept (editing a route in the back office keeps its key);
 * - a plaintext value (a user's choice): stored as its digest `sha256:<base64url>`;
 * - a digest (`sha256:` + 43 base64url characters, what an export holds): stored as is;
 * - never shown by reads (admin API, back office) and exported as the digest only.
 *
 * Data written before this (a plaintext in a stored configuration) still runs: `secretMatcher`
 * accepts both forms, and the next write or export turns it into the digest.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Type, type TOptional, type TSchema, type TString } from '@sinclair/typebox';
import type { EntityHooks, EntityService, WriteContext } from '../config/entity-service.js';
import { ROUTES, type PluginInstance, type StoredEntity } from '../config/entities.js';
import { NotFoundError } from '../errors.js';
import type { PluginCatalog } from './plugin-catalog.js';

const DIGEST_PREFIX = 'sha256:';
const DIGEST_FORM = /^sha256:[A-Za-z0-9_-]{43}$/;

/**
 * A write-only secret config field: at least 32 printable characters when a user sets it,
 * generated when absent, stored as a digest, never shown.
 *
 * @example
 * provisionKey: writeOnlySecret({ description: 'Secret the provider sends as `provision_key`.' })
 */
export function writeOnlySecret(options: { description: string }): TOptional<TString> {
  return Type.Optional(
    Type.String({ writeOnly: true, minLength: 32, maxLength: 512, pattern: '^[\\x21-\\x7E]+$', ...options }),
  );
}

/** A new secret: 256 random bits, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a secret: a digest stays as it is, a plaintext becomes `sha256:<base64url>`. */
export function secretDigest(value: string): string {
  return DIGEST_FORM.test(value) ? value : DIGEST_PREFIX + createHash('sha256').update(value).digest('base64url');
}

/**
 * A constant-time check of presented values against a stored secret (digest, or the plaintext of
 * data written before digests); with no stored secret, nothing matches. Call once per configuration.
 */
export function secretMatcher(stored: string | undefined): (presented: string) => boolean {
  if (stored === undefined) return () => false;
  const expected = Buffer.from(secretDigest(stored).slice(DIGEST_PREFIX.length), 'base64url');
  return (presented) => timingSafeEqual(createHash('sha256').update(presented).digest(), expected);
}

/** The names of the top-level write-only properties of a config schema. */
export function writeOnlyFields(schema: TSchema): string[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  return Object.keys(properties).filter((name) => (properties[name] as { writeOnly?: unknown }).writeOnly === true);
}

type WithPlugins = StoredEntity & { plugins?: PluginInstance[] };

/**
 * Write-path hooks for an entity holding plugin instances (routes, the global configuration): see
 * the header. Only the plugins whose schema declares write-only fields are touched.
 */
export function pluginSecretHooks(catalog: PluginCatalog): EntityHooks<WithPlugins> {
  const fieldsOf = (pluginId: string): string[] => {
    const plugin = catalog.get(pluginId);
    return plugin ? writeOnlyFields(plugin.configSchema) : [];
  };
  /** The plugin list with each write-only field changed by `change` (a copy; untouched instances shared). */
  const mapSecrets = (
    plugins: readonly PluginInstance[],
    change: (value: unknown, field: string, instance: PluginInstance, index: number) => unknown,
  ): PluginInstance[] =>
    plugins.map((instance, index) => {
      const fields = fieldsOf(instance.plugin);
      if (fields.length === 0) return instance;
      const config: Record<string, unknown> = { ...instance.config };
      for (const field of fields) {
        const next = change(config[field], field, instance, index);
        if (next === undefined) delete config[field];
        else config[field] = next;
      }
      return { ...instance, config };
    });
  return {
    prepare(entity: WithPlugins, ctx: WriteContext<WithPlugins>): StoredEntity {
      if (!entity.plugins) return entity;
      const previous = ctx.previous?.plugins ?? [];
      const plugins = mapSecrets(entity.plugins, (value, field, instance, index) => {
        if (typeof value === 'string') return secretDigest(value);
        const kept = previous.find((p) => p.plugin === instance.plugin)?.config?.[field];
        if (typeof kept === 'string') return secretDigest(kept);
        const generated = generateSecret();
        ctx.reveal?.(`/plugins/${index}/config/${field}`, generated);
        return secretDigest(generated);
      });
      return { ...entity, plugins };
    },
    present(entity: WithPlugins): StoredEntity {
      return entity.plugins ? { ...entity, plugins: mapSecrets(entity.plugins, () => undefined) } : entity;
    },
    export(entity: WithPlugins): StoredEntity {
      return entity.plugins
        ? {
            ...entity,
            plugins: mapSecrets(entity.plugins, (value) => (typeof value === 'string' ? secretDigest(value) : value)),
          }
        : entity;
    },
  };
}

/**
 * Replace a route plugin's write-only secret by a new one and return it (shown once). The old one
 * stops working as soon as the configuration change reaches each instance (it is a configuration
 * write). 404 when the route has no such plugin.
 */
export async function rotatePluginSecret(
  entities: EntityService,
  routeId: string,
  pluginId: string,
  field: string,
): Promise<string> {
  const route = entities.get(ROUTES, routeId);
  const plugins = route.plugins ?? [];
  const index = plugins.findIndex((p) => p.plugin === pluginId);
  if (index < 0) throw new NotFoundError(`The route "${routeId}" has no ${pluginId} plugin`);
  const secret = generateSecret();
  const next = plugins.map((p, i) =>
    i === index ? { ...p, config: { ...p.config, [field]: secretDigest(secret) } } : p,
  );
  await entities.replace(ROUTES.name, routeId, { ...route, plugins: next });
  return secret;
}
