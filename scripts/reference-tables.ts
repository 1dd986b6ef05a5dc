/**
 * The tables of docs/reference drawn from the schemas they describe: every setting of the boot
 * configuration (with its environment variable), every field of a route, every option of each
 * plugin, each with its type, default and the schema's own description. A table sits in its page
 * between `<!-- generated: <name> -->` and `<!-- end: <name> -->`; `node dist/scripts/reference-tables.js`
 * rewrites them, and test/docs/reference.test.ts fails when a page and its schema disagree.
 */
import 'reflect-metadata'; // the plugin modules import tsyringe, which needs it loaded first
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { BootConfigSchema, ENV_OVERRIDES } from '../core/config/boot-config.js';
import { RouteSchema, PluginInstanceSchema } from '../core/config/entities.js';
import { ApiKeysConfigSchema } from '../plugins/apikeys/schema.js';
import { ClientCredentialsConfigSchema } from '../plugins/client-credentials/schema.js';
import { CorsConfigSchema } from '../plugins/cors/schema.js';
import { HeadersConfigSchema } from '../plugins/headers/schema.js';
import { IpRestrictionConfigSchema } from '../plugins/ip-restriction/schema.js';
import { JwtVerifierConfigSchema } from '../plugins/jwt-verifier/schema.js';
import { OAuth2IntrospectionConfigSchema } from '../plugins/oauth2-introspection/schema.js';
import { OAuth2ConfigSchema } from '../plugins/oauth2/schema.js';
import { UpstreamJwtConfigSchema } from '../plugins/upstream-jwt/schema.js';
import { CLI_COMMANDS, usageLine } from '../bin/cli-args.js';

export const REFERENCE_DIR = fileURLToPath(new URL('../../docs/reference/', import.meta.url));

/** The plugins with a request step, by id, and their config schemas. */
export const PLUGIN_CONFIG_SCHEMAS: ReadonlyArray<[string, TSchema]> = [
  ['apikeys', ApiKeysConfigSchema],
  ['client-credentials', ClientCredentialsConfigSchema],
  ['oauth2', OAuth2ConfigSchema],
  ['jwt-verifier', JwtVerifierConfigSchema],
  ['oauth2-introspection', OAuth2IntrospectionConfigSchema],
  ['upstream-jwt', UpstreamJwtConfigSchema],
  ['ip-restriction', IpRestrictionConfigSchema],
  ['headers', HeadersConfigSchema],
  ['cors', CorsConfigSchema],
];

/** Environment variables read outside the configuration schema. */
export const ENV_ONLY: ReadonlyArray<[string, string]> = [
  [
    'PORTCULLIS_ADMIN_PASSWORD',
    'The admin password set on the first start (only its scrypt hash is stored); generated and printed once when absent, and stored only once printed. Ignored, with a warning, once the store has a password: change it with `portcullis admin-password`.',
  ],
];

export interface Row {
  path: string;
  type: string;
  default: string;
  description: string;
}

type Json = Record<string, unknown>;

/** One row per field, nested objects flattened to dotted paths, array items as `name[].field`. */
export function schemaRows(schema: TSchema, prefix = ''): Row[] {
  const rows: Row[] = [];
  const properties = (schema as Json).properties as Record<string, Json> | undefined;
  for (const [name, field] of Object.entries(properties ?? {})) {
    const path = prefix + name;
    rows.push({
      path,
      type: typeOf(field),
      default: field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``,
      description: String(field.description ?? ''),
    });
    if (field.type === 'object' && field.properties) rows.push(...schemaRows(field as TSchema, `${path}.`));
    const items = field.items as Json | undefined;
    if (field.type === 'array' && items?.type === 'object' && items.properties)
      rows.push(...schemaRows(items as TSchema, `${path}[].`));
  }
  return rows;
}

function typeOf(field: Json): string {
  if (field.const !== undefined) return `\`${JSON.stringify(field.const)}\``;
  const union = (field.anyOf ?? field.oneOf) as Json[] | undefined;
  if (union) return union.map(typeOf).join(' or ');
  if (Array.isArray(field.enum)) return field.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  if (field.type === 'array') return `array of ${field.items ? typeOf(field.items as Json) : 'any'}`;
  if (field.type === 'object' && !field.properties && field.patternProperties) return 'map';
  return String(field.type ?? 'any');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The configuration table: setting, environment variable, type, default, meaning. */
export function configurationTable(): string {
  const envOf = new Map(ENV_OVERRIDES.map(([name, path]) => [path.join('.'), name]));
  const rows = schemaRows(BootConfigSchema).map((r) => [
    `\`${r.path}\``,
    envOf.has(r.path) ? `\`${envOf.get(r.path)}\`` : '',
    r.type,
    r.default,
    r.description,
  ]);
  for (const [name, description] of ENV_ONLY) rows.push(['', `\`${name}\``, 'string', '', description]);
  return table(['setting', 'environment variable', 'type', 'default', 'meaning'], rows);
}

function fieldTable(schema: TSchema): string {
  return table(
    ['field', 'type', 'default', 'meaning'],
    schemaRows(schema).map((r) => [`\`${r.path}\``, r.type, r.default, r.description]),
  );
}

/** The commands of `portcullis`, from the table the command line is parsed with. */
function cliTable(): string {
  return table(
    ['command', 'usage', 'what it does'],
    CLI_COMMANDS.map((c) => [`\`${c.name}\``, `\`${usageLine(c)}\``, `${c.summary}. ${c.details.join(' ')}`]),
  );
}

/** Every generated table, by the name its markers carry. */
export function generatedTables(): Map<string, string> {
  const tables = new Map<string, string>([
    ['configuration', configurationTable()],
    ['route', fieldTable(RouteSchema)],
    ['plugin-instance', fieldTable(PluginInstanceSchema)],
    ['cli', cliTable()],
  ]);
  for (const [id, schema] of PLUGIN_CONFIG_SCHEMAS) tables.set(`plugin:${id}`, fieldTable(schema));
  return tables;
}

/** The tables between the markers of a page, by name. */
export function tablesInPage(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- generated: (\S+) -->\n(?:([\s\S]*?)\n)?<!-- end: \1 -->/g))
    found.set(m[1]!, m[2] ?? '');
  return found;
}

/** The page with each marked table replaced by its generated version. */
export function withGeneratedTables(markdown: string, tables: Map<string, string>): string {
  return markdown.replace(/<!-- generated: (\S+) -->\n(?:[\s\S]*?\n)?<!-- end: \1 -->/g, (whole, name: string) =>
    tables.has(name) ? `<!-- generated: ${name} -->\n${tables.get(name)}\n<!-- end: ${name} -->` : whole,
  );
}

export const REFERENCE_PAGES = ['configuration.md', 'routes.md', 'plugins.md', 'cli.md'];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tables = generatedTables();
  for (const page of REFERENCE_PAGES) {
    const file = join(REFERENCE_DIR, page);
    writeFileSync(file, withGeneratedTables(readFileSync(file, 'utf8'), tables));
  }
}
