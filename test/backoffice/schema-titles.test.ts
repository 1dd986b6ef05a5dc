import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

interface Schema {
  title?: string;
  type?: string;
  const?: unknown;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  anyOf?: Schema[];
  items?: Schema;
}

/** Fields the forms never draw: what the store or the server sets (backoffice/src/form.ts). */
const NOT_DRAWN = new Set(['version', 'createdAt', 'updatedAt', 'previousKeys', 'clientSecretHash', 'publicJwk']);

/** The JSON paths of the fields a form draws from `schema` that have no `title`. */
function untitled(schema: Schema, path: string, out: string[]): string[] {
  for (const variant of schema.anyOf ?? []) untitled(variant, path, out);
  if (schema.items) untitled(schema.items, `${path}/*`, out);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (NOT_DRAWN.has(name)) continue;
    // A kinded union's `kind` is drawn as the choice of its variant, labelled by the union's field
    if (name === 'kind' && child.const !== undefined) continue;
    if (!child.title) out.push(`${path}/${name}`);
    untitled(child, `${path}/${name}`, out);
  }
  return out;
}

describe('Back office: every field a form draws has a title (its label)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw?.close());

  it('entity schemas (GET /api/schemas) and every plugin configuration schema (GET /api/plugins)', async () => {
    const kinds = (await gw.admin('GET', '/api/schemas')).json() as Record<string, { schema: Schema }>;
    const plugins = (await gw.admin('GET', '/api/plugins')).json() as { id: string; configSchema: Schema }[];
    const missing = [
      ...Object.entries(kinds).flatMap(([kind, { schema }]) => untitled(schema, kind, [])),
      ...plugins.flatMap((p) => untitled(p.configSchema, `plugin ${p.id}`, [])),
    ];
    assert.ok(Object.keys(kinds).length >= 7 && plugins.length >= 9, 'the shipped schemas are all read');
    assert.deepEqual([...new Set(missing)], []);
  });
});
