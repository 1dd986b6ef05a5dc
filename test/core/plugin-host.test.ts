/**
 * The plugin host over a real gateway: a module's entity kind behind a handle (its admin endpoints,
 * hooks and validation through the core's write path), typed services between modules, plugins and
 * admin routes added as factories, and the API version a module declares.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import {
  API_KEY_ISSUER,
  CLIENT_DIRECTORY,
  defineEntityKind,
  EntityId,
  EntityMeta,
  PLUGIN_API_VERSION,
  serviceToken,
  type EntityHandle,
  type PluginModule,
  type StoredEntity,
} from '../../core/plugin-api.js';
import { ServiceRegistry, apiVersionProblem } from '../../core/plugin-host.js';
import { BUILTIN_PLUGINS } from '../../plugins/index.js';

const NOTE_KIND = defineEntityKind({
  name: 'notes',
  title: 'note',
  idField: 'id',
  affectsPipelines: false,
  schema: Type.Object(
    { id: EntityId, text: Type.String({ maxLength: 20 }), ...EntityMeta },
    { additionalProperties: false },
  ),
});
type Note = StoredEntity & { id: string; text: string };

const GREETER = serviceToken<{ greet(name: string): string }>('test.Greeter');

/** Defines a kind, provides a service, and answers on an admin route of its own. */
function notesModule(seen: { handle?: EntityHandle<Note>; greeting?: string }): PluginModule {
  return {
    id: 'notes',
    apiVersion: PLUGIN_API_VERSION,
    register(host) {
      const notes = host.entities.define(NOTE_KIND) as unknown as EntityHandle<Note>;
      seen.handle = notes;
      // A hook of the kind runs on every write, whoever writes.
      notes.hooks({ prepare: (note) => ({ ...note, text: note.text.toUpperCase() }) });
      host.provide(GREETER, { greet: (name) => `hello ${name}` });
      host.admin.routes(() => [
        ...notes.adminRoutes(),
        { method: 'GET', path: '/api/notes-count', handler: () => ({ body: { count: notes.list().length } }) },
      ]);
    },
    init(host) {
      seen.greeting = host.use(GREETER).greet(host.id);
    },
  };
}

describe('Plugin host: a module through its host', () => {
  let gw: TestGateway;
  const seen: { handle?: EntityHandle<Note>; greeting?: string } = {};

  before(async () => {
    gw = await startGateway({ plugins: [...BUILTIN_PLUGINS, notesModule(seen)] });
  });
  after(() => gw.close());

  it('its kind has the standard admin endpoints, validated by its schema, with its hooks', async () => {
    const created = await gw.admin('POST', '/api/notes', { id: 'n1', text: 'remember' });
    assert.equal(created.status, 201);
    assert.equal(created.json().text, 'REMEMBER');
    const refused = await gw.admin('POST', '/api/notes', { id: 'n2', text: 'x'.repeat(21) });
    assert.equal(refused.status, 400);
    assert.equal((await gw.admin('GET', '/api/notes-count')).json().count, 1);
  });

  it('its handle writes through the same path: hooks, versions, NotFound as undefined from find', async () => {
    const handle = seen.handle!;
    const note = await handle.create({ id: 'n3', text: 'direct' });
    assert.equal(note.text, 'DIRECT');
    await assert.rejects(handle.update('n3', { text: 'stale', version: 7 }), { status: 409 });
    assert.equal(handle.find('missing'), undefined);
    await handle.delete('n3');
    assert.equal(handle.find('n3'), undefined);
  });

  it('a service one module provides is what another uses; a token with a fallback gives it when none does', () => {
    assert.equal(seen.greeting, 'hello notes');
    assert.equal(gw.gateway.service(GREETER).greet('x'), 'hello x');
    // apikeys provides both the client directory and the key issuer
    assert.equal(typeof gw.gateway.service(API_KEY_ISSUER).issue, 'function');
    assert.equal(typeof gw.gateway.service(CLIENT_DIRECTORY).authenticate, 'function');
  });
});

describe('Plugin host: services and versions', () => {
  it('a service used and provided by none names the user and the token; one provided twice names both providers', () => {
    const services = new ServiceRegistry();
    assert.throws(() => services.use('Plugin module "access-requests"', API_KEY_ISSUER), {
      message: 'Plugin module "access-requests" uses the service ApiKeyIssuer, which no loaded module provides',
    });
    assert.equal(
      services.use('Plugin module "oauth2"', CLIENT_DIRECTORY).get('anyone'),
      undefined,
      'the no-clients fallback',
    );
    services.provide('a', GREETER, { greet: () => 'a' });
    assert.throws(() => services.provide('b', GREETER, { greet: () => 'b' }), {
      message: 'Service test.Greeter is provided twice (by "a" and "b")',
    });
  });

  it('a module written for another major version of the plugin API is refused, with a clear error', async () => {
    const module = (apiVersion: string): PluginModule => ({ id: 'old', apiVersion, register() {} });
    assert.equal(apiVersionProblem(module('1.4.2'), '1.0.0'), null);
    assert.equal(apiVersionProblem({ id: 'any', register() {} }), null, 'no declared version: taken as current');
    assert.equal(
      apiVersionProblem(module('0.9.0'), '1.0.0'),
      'Plugin module "old" was written for plugin API 0.9.0; this gateway has 1.0.0 (another major version)',
    );
    assert.match(apiVersionProblem(module('v1'))!, /not a semantic version/);
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-host-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    await assert.rejects(startGateway({ dataDir, plugins: [...BUILTIN_PLUGINS, module('2.0.0')] }), {
      name: 'ConfigError',
      message: `Plugin module "old" was written for plugin API 2.0.0; this gateway has ${PLUGIN_API_VERSION} (another major version)`,
    });
  });
});
