/**
 * The catalog of installed plugins: resolves every class registered under `PLUGINS` once,
 * compiles each config schema once, and validates plugin instances on admin writes.
 */
import { injectable, injectAll } from 'tsyringe';
import type { Static, TSchema } from '@sinclair/typebox';
import { PLUGINS } from '../tokens.js';
import { describePlugin, type InstanceScope, type Plugin } from './plugin.js';
import { applyDefaults, compileValidator, type Validator } from '../config/schema.js';
import type { ErrorDetail } from '../errors.js';
import type { EntityReference, PluginInstance } from '../config/entities.js';
import type { IndexBuilder } from './indexes.js';

/** One instance's line in the route designer (`POST /api/plugins/summaries`). */
export interface InstanceSummary {
  plugin: string;
  /** Null when the configuration has problems. */
  summary: string | null;
  problems: ErrorDetail[];
}

interface CatalogEntry {
  plugin: Plugin;
  validator: Validator<TSchema>;
  defaultConfig: unknown;
}

@injectable()
export class PluginCatalog {
  readonly #entries = new Map<string, CatalogEntry>();

  constructor(@injectAll(PLUGINS, { isOptional: true }) plugins: Plugin[] | undefined) {
    for (const plugin of plugins ?? []) {
      if (this.#entries.has(plugin.id)) throw new Error(`Plugin id ${plugin.id} is registered twice`);
      this.#entries.set(plugin.id, {
        plugin,
        validator: compileValidator(plugin.configSchema),
        defaultConfig: applyDefaults(plugin.configSchema, {}),
      });
    }
  }

  get(id: string): Plugin | undefined {
    return this.#entries.get(id)?.plugin;
  }

  /** The derived indexes the plugins declare, in registration order (built by the compile step). */
  indexBuilders(): IndexBuilder[] {
    return [...this.#entries.values()].flatMap((entry) => entry.plugin.indexes ?? []);
  }

  /** The plugin ids, in registration order. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  describe() {
    return [...this.#entries.values()].map((e) => describePlugin(e.plugin, e.defaultConfig));
  }

  /**
   * What each instance does with its configuration, in one line (the plugin's `describe`, else its
   * description), or why it cannot say: the problems `check` finds, paths relative to the instance
   * (`/config/…`). For the back office's route designer, which summarizes unsaved drafts.
   */
  summarize(instances: readonly PluginInstance[], global: boolean): InstanceSummary[] {
    const problems = this.check(instances, '', global);
    return instances.map((instance, index) => {
      const prefix = `/${index}`;
      const own = problems
        .filter((p) => p.path === prefix || p.path.startsWith(`${prefix}/`))
        .map((p) => ({ path: p.path.slice(prefix.length) || '/', message: p.message }));
      const plugin = this.#entries.get(instance.plugin)?.plugin;
      if (!plugin || own.length > 0) return { plugin: instance.plugin, summary: null, problems: own };
      let summary = plugin.description;
      try {
        if (plugin.describe) summary = plugin.describe(this.resolveConfig(instance));
      } catch (error) {
        // A summary is a convenience: a plugin whose describe throws still gets its description.
        summary = `${plugin.description} (${(error as Error).message})`;
      }
      return { plugin: instance.plugin, summary, problems: [] };
    });
  }

  /** The instance's config with defaults filled in; assumes `check` passed. */
  resolveConfig(instance: PluginInstance): Static<TSchema> {
    return applyDefaults(this.#entries.get(instance.plugin)!.plugin.configSchema, instance.config) as Static<TSchema>;
  }

  /** See `Plugin.references`; only for instances whose config validates. */
  references(instances: readonly PluginInstance[], prefix: string): EntityReference[] {
    const found: EntityReference[] = [];
    instances.forEach((instance, index) => {
      const entry = this.#entries.get(instance.plugin);
      if (!entry?.plugin.references) return;
      const config = applyDefaults(entry.plugin.configSchema, instance.config ?? {});
      if (!entry.validator.check(config)) return;
      for (const ref of entry.plugin.references(config))
        found.push({ ...ref, path: `${prefix}/${index}/config${ref.path === '/' ? '' : ref.path}` });
    });
    return found;
  }

  /**
   * Instantiate each instance once, as the compiler will, and report those that throw: a write is
   * accepted only when its configuration runs. Call after `check` found nothing.
   */
  dryRun(instances: readonly PluginInstance[], prefix: string, scope: InstanceScope): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    instances.forEach((instance, index) => {
      const entry = this.#entries.get(instance.plugin);
      if (!entry) return;
      try {
        entry.plugin.instantiate(this.resolveConfig(instance), scope);
      } catch (error) {
        problems.push({
          path: `${prefix}/${index}/config`,
          message: `The plugin cannot run with this configuration: ${(error as Error).message}`,
        });
      }
    });
    return problems;
  }

  /** Every problem with a list of instances, paths prefixed with `prefix` (e.g. `/plugins`). */
  check(instances: readonly PluginInstance[], prefix: string, global: boolean): ErrorDetail[] {
    const errors: ErrorDetail[] = [];
    instances.forEach((instance, index) => {
      const at = `${prefix}/${index}`;
      const entry = this.#entries.get(instance.plugin);
      if (!entry) {
        errors.push({
          path: `${at}/plugin`,
          message: `Unknown plugin "${instance.plugin}"; installed: ${[...this.#entries.keys()].join(', ')}`,
        });
        return;
      }
      if (entry.plugin.globalOnly && !global) {
        errors.push({
          path: `${at}/plugin`,
          message: `Plugin "${instance.plugin}" can only be enabled in the global configuration`,
        });
      }
      if (instances.findIndex((other) => other.plugin === instance.plugin) !== index) {
        errors.push({ path: `${at}/plugin`, message: `Plugin "${instance.plugin}" is listed twice` });
      }
      for (const [field, patterns] of [
        ['include', instance.include],
        ['exclude', instance.exclude],
      ] as const) {
        patterns?.forEach((pattern, i) => {
          const problem = regexProblem(pattern);
          if (problem) errors.push({ path: `${at}/${field}/${i}`, message: problem });
        });
      }
      const config = applyDefaults(entry.plugin.configSchema, instance.config ?? {});
      const configErrors = entry.validator.errors(config, `${at}/config`);
      errors.push(...configErrors);
      if (configErrors.length === 0 && entry.plugin.checkConfig) {
        errors.push(
          ...entry.plugin
            .checkConfig(config)
            .map((e) => ({ path: `${at}/config${e.path === '/' ? '' : e.path}`, message: e.message })),
        );
      }
    });
    return errors;
  }
}

/** Null when `pattern` compiles as the compiler uses it (anchored, see `anchoredRegex`), else why not. */
export function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
    anchoredRegex(pattern);
    return null;
  } catch (error) {
    return `Not a valid regular expression: ${(error as Error).message}`;
  }
}

/** Compile a path pattern anchored at both ends. */
export function anchoredRegex(pattern: string, caseSensitive = true): RegExp {
  return new RegExp(`^(?:${pattern})$`, caseSensitive ? '' : 'i');
}
