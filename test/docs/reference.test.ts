/**
 * docs/reference checked against what it describes: the configuration table (settings and
 * environment variables), the route fields and each plugin's options equal the tables drawn from
 * their schemas (a field added, removed, renamed or re-defaulted on either side fails), and the
 * admin API page lists exactly the endpoints the OpenAPI document serves.
 */
import 'reflect-metadata'; // before the plugin modules, which import tsyringe
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { ENV_OVERRIDES } from '../../core/config/boot-config.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { REFERENCE_DIR, REFERENCE_PAGES, PLUGIN_CONFIG_SCHEMAS, generatedTables, tablesInPage, schemaRows, withGeneratedTables } from '../../scripts/reference-tables.js';

const page = (name: string) => readFileSync(join(REFERENCE_DIR, name), 'utf8');

describe('docs/reference: tables drawn from the schemas', () => {
  const generated = generatedTables();
  const documented = new Map(REFERENCE_PAGES.flatMap((name) => [...tablesInPage(page(name))]));

  it('every generated table is in a page, and every table of a page is generated', () => {
    assert.deepEqual([...documented.keys()].sort(), [...generated.keys()].sort());
  });

  for (const [name, table] of generated) {
    it(`the ${name} table equals its schema (node dist/scripts/reference-tables.js rewrites it)`, () => {
      assert.equal(documented.get(name), table);
    });
  }

  it('the configuration table names every environment variable with its setting', () => {
    const table = documented.get('configuration') ?? '';
    for (const [name, path] of ENV_OVERRIDES) assert.match(table, new RegExp(`\\| \`${path.join('\\.')}\` \\| \`${name}\` \\|`), name);
    assert.match(table, /`PORTCULLIS_ADMIN_PASSWORD`/);
  });

  it('a field added to a schema changes its table (the check works both ways)', () => {
    const schema = Type.Object({ a: Type.String({ default: 'x', description: 'A.' }) });
    const widened = Type.Object({ a: schema.properties.a, b: Type.Integer({ default: 1 }) });
    assert.deepEqual(schemaRows(schema).map((r) => r.path), ['a']);
    assert.deepEqual(schemaRows(widened).map((r) => [r.path, r.default]), [['a', '`"x"`'], ['b', '`1`']]);
    const marked = '<!-- generated: t -->\n| old |\n<!-- end: t -->';
    assert.equal(withGeneratedTables(marked, new Map([['t', '| new |']])), '<!-- generated: t -->\n| new |\n<!-- end: t -->');
  });
});

describe('docs/reference/admin-api.md', () => {
  let gw: TestGateway;
  before(async () => { gw = await startGateway(); });
  after(async () => { await gw.close(); });

  it('lists exactly the endpoints of the served OpenAPI document', async () => {
    const doc = (await gw.admin('GET', '/api/openapi.json')).json() as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const listed = [...page('admin-api.md').matchAll(/^\| `([A-Z]+ \/api\S*)` \|/gm)].map((m) => m[1]!).sort();
    assert.deepEqual(listed, served);
  });

  it('the plugins reference covers every plugin of the served catalog, with the schema the plugin runs with', async () => {
    const catalog = (await gw.admin('GET', '/api/plugins')).json() as Array<{ id: string; configSchema: unknown }>;
    assert.deepEqual(PLUGIN_CONFIG_SCHEMAS.map(([id]) => id).sort(), catalog.map((p) => p.id).sort());
    for (const [id, schema] of PLUGIN_CONFIG_SCHEMAS) {
      assert.deepEqual(catalog.find((p) => p.id === id)?.configSchema, JSON.parse(JSON.stringify(schema)), id);
    }
  });
});
