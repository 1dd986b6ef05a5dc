/**
 * The core's in-process caches: bounded, expiring, dropped by the revocation epoch, and keyed by
 * digests that contain no token or secret.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiringCache, sha256Key } from '../../../core/cache/expiring-cache.js';
import { RevocableCache } from '../../../core/cache/revocable-cache.js';
import { VerifiedSecrets } from '../../../core/cache/verified-secrets.js';

/** A verifier that counts its (real) verifications. */
function countingVerifier(secret: string): { verify(s: string): boolean; calls: number } {
  return {
    calls: 0,
    verify(presented: string) {
      this.calls++;
      return presented === secret;
    },
  };
}

describe('ExpiringCache', () => {
  it('drops an entry at its expiry and never keeps one already expired', () => {
    const cache = new ExpiringCache<number>(10);
    const now = Date.now();
    cache.set('a', 1, now + 1000);
    cache.set('gone', 2, now - 1);
    assert.equal(cache.get('a', now), 1);
    assert.equal(cache.get('a', now + 1000), undefined);
    assert.equal(cache.get('gone', now), undefined);
    assert.equal(cache.size, 0);
  });

  it('holds at most maxEntries, evicting the oldest', () => {
    const cache = new ExpiringCache<number>(3);
    const until = Date.now() + 60_000;
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, until);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      ['k6', 'k7', 'k8', 'k9'].map((k) => cache.get(k)),
      [undefined, 7, 8, 9],
    );
  });

  it('keys by a SHA-256 digest, not the token', () => {
    const key = sha256Key('a-token-value');
    assert.doesNotMatch(key, /a-token-value/);
    assert.equal(key.length, 43);
  });
});

describe('RevocableCache', () => {
  it('drops everything once the revocation epoch moves', () => {
    const epoch = { current: 'e1' };
    const cache = new RevocableCache<string>(epoch, 10, 60_000);
    cache.set('t', 'record', Date.now() + 60_000, cache.epoch);
    assert.equal(cache.get('t'), 'record');
    epoch.current = 'e2';
    assert.equal(cache.get('t'), undefined);
    assert.equal(cache.size, 0);
  });

  it('never keeps a value read under an older epoch (a lookup racing a revocation)', () => {
    const epoch = { current: 'e1' };
    const cache = new RevocableCache<string>(epoch, 10, 60_000);
    const atRead = cache.epoch;
    epoch.current = 'e2'; // the revocation lands while the store is read
    cache.set('t', 'stale record', Date.now() + 60_000, atRead);
    assert.equal(cache.get('t'), undefined);
    // Nor one read under the new epoch before the cache dropped the old one's entries.
    const fresh = new RevocableCache<string>(epoch, 10, 60_000);
    fresh.set('old', 'kept', Date.now() + 60_000, fresh.epoch);
    epoch.current = 'e3';
    fresh.set('new', 'read after', Date.now() + 60_000, 'e3');
    assert.equal(fresh.get('old'), undefined);
    assert.equal(fresh.get('new'), undefined);
  });

  it('expires an entry at what it copies or maxAgeMs after the read, whichever is first, and is bounded', () => {
    const epoch = { current: '' };
    const cache = new RevocableCache<number>(epoch, 2, 5_000);
    const now = Date.now();
    cache.set('short', 1, now + 1_000, '', now);
    cache.set('long', 2, now + 3_600_000, '', now);
    assert.equal(cache.get('short', now + 999), 1);
    assert.equal(cache.get('short', now + 1_000), undefined);
    assert.equal(cache.get('long', now + 4_999), 2);
    assert.equal(cache.get('long', now + 5_000), undefined);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, now + 60_000, '', now);
    assert.equal(cache.size, 2);
  });
});

describe('VerifiedSecrets', () => {
  it('verifies a client secret once, then answers from the cache while the verifier is the same', () => {
    const secrets = new VerifiedSecrets();
    const verifier = countingVerifier('s3cret-s3cret-s3cret');
    for (let i = 0; i < 3; i++) assert.equal(secrets.verify('c1', 's3cret-s3cret-s3cret', verifier), true);
    assert.equal(verifier.calls, 1);
  });

  it('never keeps a wrong secret: each attempt pays the full verification', () => {
    const secrets = new VerifiedSecrets();
    const verifier = countingVerifier('right-secret-0123456789');
    for (let i = 0; i < 3; i++) assert.equal(secrets.verify('c1', 'wrong-secret-0123456789', verifier), false);
    assert.equal(verifier.calls, 3);
    assert.equal(secrets.size, 0);
  });

  it('misses at once when the key is stored again (a rotated secret makes a new verifier)', () => {
    const secrets = new VerifiedSecrets();
    const before = countingVerifier('old-secret-0123456789');
    assert.equal(secrets.verify('c1', 'old-secret-0123456789', before), true);
    const rotated = countingVerifier('new-secret-0123456789');
    assert.equal(secrets.verify('c1', 'old-secret-0123456789', rotated), false);
    assert.equal(secrets.verify('c1', 'new-secret-0123456789', rotated), true);
  });

  it('does not let one client id use a secret verified for another', () => {
    const secrets = new VerifiedSecrets();
    const shared = countingVerifier('same-secret-0123456789');
    assert.equal(secrets.verify('c1', 'same-secret-0123456789', shared), true);
    assert.notEqual(secrets.keyOf('c1', 'same-secret-0123456789'), secrets.keyOf('c2', 'same-secret-0123456789'));
  });

  it('keys by a digest under a per-process random key: not the secret, not its plain SHA-256', () => {
    const a = new VerifiedSecrets();
    const b = new VerifiedSecrets();
    const key = a.keyOf('client', 'the-secret-0123456789');
    assert.doesNotMatch(key, /the-secret|client/);
    assert.notEqual(key, sha256Key('client\0the-secret-0123456789'));
    assert.notEqual(key, sha256Key('the-secret-0123456789'));
    assert.notEqual(key, b.keyOf('client', 'the-secret-0123456789'));
  });

  it('is bounded and forgets a verification after maxAgeMs', () => {
    const secrets = new VerifiedSecrets(2, 60_000);
    const verifiers = [0, 1, 2, 3].map((i) => countingVerifier(`secret-${i}-0123456789`));
    verifiers.forEach((v, i) => secrets.verify(`c${i}`, `secret-${i}-0123456789`, v));
    assert.equal(secrets.size, 2);
    secrets.verify('c0', 'secret-0-0123456789', verifiers[0]!);
    assert.equal(verifiers[0]!.calls, 2, 'the oldest entry was evicted');
    const aged = new VerifiedSecrets(10, 1);
    const v = countingVerifier('secret-aged-0123456789');
    aged.verify('c', 'secret-aged-0123456789', v);
    const start = Date.now();
    while (Date.now() <= start + 1); // past the 1 ms age
    aged.verify('c', 'secret-aged-0123456789', v);
    assert.equal(v.calls, 2);
  });
});
