import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { scopeMatcher, grantedScopes } from '../../../core/oauth/access-rules.js';
import { VerifiedTokenCache } from '../../../plugins/jwt-verifier/token-cache.js';

describe('Plugin: jwt-verifier (scope strategies and token cache)', () => {
  it('exact: only the same scope', () => {
    const m = scopeMatcher('exact');
    assert.equal(m(['read'], 'read'), true);
    assert.equal(m(['read'], 'read.users'), false);
  });

  it('hierarchic: a scope grants its children, not its parent or siblings', () => {
    const m = scopeMatcher('hierarchic');
    assert.equal(m(['read'], 'read.users'), true);
    assert.equal(m(['read'], 'read.users.emails'), true);
    assert.equal(m(['read.users'], 'read'), false);
    assert.equal(m(['read'], 'readers'), false);
  });

  it('wildcard: `*` stands for one level, a trailing `*` for any depth', () => {
    const m = scopeMatcher('wildcard');
    assert.equal(m(['read.*'], 'read.users'), true);
    assert.equal(m(['read.*'], 'read'), false);
    assert.equal(m(['*.users'], 'write.users'), true);
    assert.equal(m(['*.users'], 'write.orders'), false);
    assert.equal(m(['read.*'], 'read.users.emails'), true);
  });

  it('reads scopes from a space-separated string or an array', () => {
    assert.deepEqual(grantedScopes({ scope: 'a b  c' }, 'scope'), ['a', 'b', 'c']);
    assert.deepEqual(grantedScopes({ scp: ['a', 1, 'b'] }, 'scp'), ['a', 'b']);
    assert.deepEqual(grantedScopes({}, 'scope'), []);
  });

  it('the verified-token cache forgets entries at their expiry and stays bounded', () => {
    const cache = new VerifiedTokenCache<number>(2);
    const now = Date.now();
    cache.set('a', 1, now + 50);
    assert.equal(cache.get('a', now), 1);
    assert.equal(cache.get('a', now + 60), undefined);
    cache.set('b', 2, now + 10_000);
    cache.set('c', 3, now + 10_000);
    cache.set('d', 4, now + 10_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined, 'the oldest entry made room');
    assert.equal(cache.get('d'), 4);
    cache.set('expired', 5, now - 1);
    assert.equal(cache.get('expired'), undefined);
    assert.notEqual(VerifiedTokenCache.keyOf('token-a'), 'token-a', 'keys are hashes, not tokens');
  });
});
