import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsNormalization, normalizePath, parseRequestTarget } from '../../../core/http/request-path.js';

describe('Request path normalization (RFC 3986 §6.2.2, merged slashes)', () => {
  it('leaves an ordinary path as it is, without entering the slow path', () => {
    for (const path of ['/', '/orders/42', '/file.json', '/v1.2/x', '/.well-known/jwks.json', '/a..b', '/a/.hidden', '/a/...', '/a;v=1/b']) {
      assert.equal(needsNormalization(path), false, path);
      assert.deepEqual(parseRequestTarget(path), { path, search: '' }, path);
    }
    for (const path of ['/a/./b', '/a/..', '/a//b', '/%61', '/a\\b']) assert.equal(needsNormalization(path), true, path);
  });

  it('decodes percent-encoded unreserved characters and upper-cases the other escapes', () => {
    assert.equal(normalizePath('/%61dmin'), '/admin');
    assert.equal(normalizePath('/%41%7a%30%2D%5f%7E'), '/Az0-_~');
    assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9');
    assert.equal(normalizePath('/a%3fb%20c'), '/a%3Fb%20c', 'reserved and other characters stay encoded');
  });

  it('merges duplicate slashes and keeps a trailing slash', () => {
    assert.equal(normalizePath('//admin'), '/admin');
    assert.equal(normalizePath('/a///b//'), '/a/b/');
    assert.equal(normalizePath('/a/'), '/a/');
  });

  it('resolves dot segments, plain or encoded, never above the root', () => {
    assert.equal(normalizePath('/public/../admin'), '/admin');
    assert.equal(normalizePath('/public/%2e%2e/admin'), '/admin');
    assert.equal(normalizePath('/public/.%2E/admin'), '/admin');
    assert.equal(normalizePath('/a/./b/.'), '/a/b/');
    assert.equal(normalizePath('/../../etc/passwd'), '/etc/passwd');
    assert.equal(normalizePath('/a/..'), '/');
    assert.equal(normalizePath('/a//../b'), '/b', 'slashes are merged before dot segments are resolved (as nginx does)');
  });

  it('refuses encoded separators, raw backslashes, NUL, malformed and double-encoded escapes, and dot segments with parameters', () => {
    for (const path of ['/public/..%2fadmin', '/public/%2e%2e%2fadmin', '/public/..%5cadmin', '/a%2Fb', '/a\\..\\b', '/a%00b',
      '/a%zz', '/a%4', '/a%', '/public/%252e%252e/admin', '/x/%252F', '/x/%255c', '/x/%25%32%65%25%32%65/',
      '/public/..;/admin', '/public/..;jsessionid=1/admin', '/public/%2e%2e;/admin', '/a/.;x/b', '/.;']) {
      assert.equal(parseRequestTarget(path), null, path);
    }
  });

  it('keeps the query string untouched and normalizes only the path', () => {
    assert.deepEqual(parseRequestTarget('/%61/b/../c?x=%2e%2e%2f&y=//'), { path: '/a/c', search: '?x=%2e%2e%2f&y=//' });
  });

  it('normalizes the path of an absolute-form target and refuses the asterisk form', () => {
    assert.deepEqual(parseRequestTarget('http://api.test/%61dmin//x?q=1'), { path: '/admin/x', search: '?q=1' });
    assert.deepEqual(parseRequestTarget('http://api.test'), { path: '/', search: '' });
    assert.equal(parseRequestTarget('http://api.test/..%2fadmin'), null);
    assert.equal(parseRequestTarget('*'), null);
    assert.equal(parseRequestTarget('not-a-target'), null);
  });
});
