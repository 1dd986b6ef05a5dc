/**
 * The API-key index looks keys up in the store and indexes each on first use: what the store holds
 * now is what a request sees (a key added, rotated, disabled or deleted), and nothing is built for
 * keys that never call.
 */
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyIndex } from '../../../plugins/apikeys/key-index.js';
import { APIKEYS, hashSecret, type ApiKey } from '../../../plugins/apikeys/entity.js';
import type { EntitySource } from '../../../core/plugin-api.js';

const SECRET = 'a-secret-of-sixteen-or-more';

function key(clientId: string, changes: Partial<ApiKey> = {}): ApiKey {
  return {
    clientId,
    clientSecretHash: hashSecret(SECRET),
    clientName: clientId,
    description: '',
    enabled: true,
    authorizedEntities: ['r1'],
    scopes: [],
    allowClientIdOnly: false,
    ...changes,
  } as ApiKey;
}

/** A store of API keys only, as the compile step hands it to the index. */
function storeOf(...keys: ApiKey[]): EntitySource & { keys: Map<string, ApiKey> } {
  const map = new Map(keys.map((k) => [k.clientId, k]));
  return {
    keys: map,
    get: ((kind: string, id: string) => (kind === APIKEYS ? map.get(id) : undefined)) as EntitySource['get'],
    list: ((kind: string) => (kind === APIKEYS ? [...map.values()] : [])) as unknown as EntitySource['list'],
  };
}

describe('Plugin apikeys: key index', () => {
  it('finds what the store holds now: a key added, replaced, disabled or deleted', () => {
    const store = storeOf(key('a'));
    const index = new ApiKeyIndex();
    index.reload(store);
    assert.equal(index.authenticate('a', SECRET)?.key.clientId, 'a');
    assert.equal(index.get('b'), undefined);
    store.keys.set('b', key('b', { authorizedEntities: ['r2'] }));
    assert.ok(index.get('b')?.routes.has('r2'));
    store.keys.set('a', key('a', { clientSecretHash: hashSecret('another-secret-of-16+') }));
    assert.equal(index.authenticate('a', SECRET), null);
    assert.equal(index.authenticate('a', 'another-secret-of-16+')?.key.clientId, 'a');
    store.keys.set('b', key('b', { enabled: false }));
    assert.equal(index.authenticate('b', SECRET), null);
    store.keys.delete('a');
    assert.equal(index.get('a'), undefined);
  });

  it('re-indexes a key its writer edited in place and put back, once told of the change', () => {
    const stored = key('a', { authorizedEntities: ['r1'] });
    const store = storeOf(stored);
    const index = new ApiKeyIndex();
    index.reload(store);
    assert.ok(index.get('a')!.routes.has('r1'));
    (stored as { authorizedEntities: string[] }).authorizedEntities = ['r2'];
    index.apply({ op: 'put', kind: APIKEYS, id: 'a' }, store);
    assert.ok(index.get('a')!.routes.has('r2'));
    assert.equal(index.get('a')!.routes.has('r1'), false);
  });

  it('tells listeners of every change, and on a reload of every client looked up before', () => {
    const store = storeOf(key('a'), key('b'), key('c'));
    const index = new ApiKeyIndex();
    index.reload(store);
    const heard: string[] = [];
    index.onClientChange((clientId) => heard.push(clientId));
    index.get('a');
    index.authenticate('c', 'wrong-secret-of-16-chars');
    index.apply({ op: 'delete', kind: APIKEYS, id: 'b' }, store);
    assert.deepEqual(heard, ['b']);
    index.reload(storeOf());
    assert.deepEqual(heard.sort(), ['a', 'b', 'c']);
    assert.equal(index.get('a'), undefined, 'the reloaded store has no key');
  });
});
