import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsNormalization, normalizePath, parseRequestTarget } from '../../../core/config/request-path.js';

describe('Request path normalization (RFC 3986 §6.2.2, merged slashes)', () => {
  it('leaves an ordinary path as it is, without entering the slow path', () => {
    for (const path of [
      '/',
      '/orders/42',
      '/file.json',
      '/v1.2/x',
      '/.well-known/jwks.json',
      '/a..b',
      '/a/.hidden',
      '/a/..b/c',
    ]) {
      assert.equal(needsNormalization(path), false, path);
      assert.deepEqual(parseRequestTarget(path), { path, search: '', pathParameters: false }, path);
    }
    for (const path of ['/a/./b', '/a/..', '/a//b', '/%61', '/a\\b', '/a;v=1/b', '/admin.', '/a/.../b', '/a./b'])
      assert.equal(needsNormalization(path), true, path);
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
    assert.equal(
      normalizePath('/a//../b'),
      '/b',
      'slashes are merged before dot segments are resolved (as nginx does)',
    );
  });

  it('refuses encoded separators, raw backslashes, NUL, malformed and double-encoded escapes, and dot segments with parameters', () => {
    for (const path of [
      '/public/..%2fadmin',
      '/public/%2e%2e%2fadmin',
      '/public/..%5cadmin',
      '/a%2Fb',
      '/a\\..\\b',
      '/a%00b',
      '/a%zz',
      '/a%4',
      '/a%',
      '/public/%252e%252e/admin',
      '/x/%252F',
      '/x/%255c',
      '/x/%25%32%65%25%32%65/',
      '/public/..;/admin',
      '/public/..;jsessionid=1/admin',
      '/public/%2e%2e;/admin',
      '/a/.;x/b',
      '/.;',
    ]) {
      assert.equal(parseRequestTarget(path), null, path);
    }
  });

  it('keeps the query string untouched and normalizes only the path', () => {
    assert.deepEqual(parseRequestTarget('/%61/b/../c?x=%2e%2e%2f&y=//'), {
      path: '/a/c',
      search: '?x=%2e%2e%2f&y=//',
      pathParameters: false,
    });
  });

  it('normalizes the path of an absolute-form target and refuses the asterisk form', () => {
    assert.deepEqual(parseRequestTarget('http://api.test/%61dmin//x?q=1'), {
      path: '/admin/x',
      search: '?q=1',
      pathParameters: false,
    });
    assert.deepEqual(parseRequestTarget('http://api.test'), { path: '/', search: '', pathParameters: false });
    assert.equal(parseRequestTarget('http://api.test/..%2fadmin'), null);
    assert.equal(parseRequestTarget('*'), null);
    assert.equal(parseRequestTarget('not-a-target'), null);
  });

  // Issue 21: what servlet containers, Windows servers and lenient UTF-8 decoders read as another path.
  const TRIMMED_OR_MISREAD = {
    'a ";" path parameter is removed (and flagged)': ['/admin;x', '/admin;jsessionid=1/users'],
    'an encoded ";" is refused': ['/admin%3B', '/admin%3b', '/admin%3Bx/users'],
    'a segment ending in a dot is refused': [
      '/admin.',
      '/admin%2E',
      '/admin%2e/users',
      '/public/.../orders',
      '/a/x../b',
      '/a/.%2E./b',
    ],
    'a segment ending in a space, a tab or another control character is refused': [
      '/admin%20',
      '/public/..%09/orders',
      '/admin%09/x',
      '/a/.%20/b',
      '/admin%0A',
      '/admin%0d/x',
      '/admin%1F',
    ],
    'a segment starting with a space, a tab or another control character is refused': [
      '/%20admin',
      '/%09admin/x',
      '/public/%20../admin',
      '/%0Aadmin',
      '/a/%1fb',
    ],
    'escapes that are not valid UTF-8 are refused': [
      '/public/%c0%ae%c0%ae/orders',
      '/public/%e0%80%ae%e0%80%ae/orders',
      '/a%ff',
      '/a%c0%afb',
      '/a%c3',
      '/a%c3x',
      '/a%a9',
      '/a%ed%a0%80',
      '/a%f4%90%80%80',
      '/a%f8%88%80%80%80',
      '/a%c3%41',
    ],
  };

  for (const [what, paths] of Object.entries(TRIMMED_OR_MISREAD)) {
    it(`issue 21: ${what}`, () => {
      for (const path of paths) {
        const target = parseRequestTarget(path);
        if (what.startsWith('a ";"'))
          assert.deepEqual(target, { path: path.replace(/;[^/]*/g, ''), search: '', pathParameters: true }, path);
        else assert.equal(target, null, path);
      }
    });
  }

  it('issue 21: strips parameters before resolving dot segments, and still refuses dot segments carrying them', () => {
    assert.deepEqual(parseRequestTarget('/public/x;y/../admin;z?q'), {
      path: '/public/admin',
      search: '?q',
      pathParameters: true,
    });
    assert.deepEqual(parseRequestTarget('/;x/admin'), { path: '/admin', search: '', pathParameters: true });
    for (const path of ['/public/..;x/admin', '/public/.;/admin', '/public/%2E%2E;x/admin'])
      assert.equal(parseRequestTarget(path), null, path);
  });

  it('issue 21: keeps valid UTF-8 escapes and ordinary dots', () => {
    for (const [path, normal] of [
      ['/caf%C3%A9', '/caf%C3%A9'],
      ['/caf%c3%a9/x', '/caf%C3%A9/x'],
      ['/%E2%82%AC', '/%E2%82%AC'],
      ['/%F0%9F%98%80', '/%F0%9F%98%80'],
      ['/%ED%9F%BF', '/%ED%9F%BF'],
      ['/v1.2/x', '/v1.2/x'],
      ['/file.txt', '/file.txt'],
      ['/a%20b', '/a%20b'],
      ['/.well-known/x/', '/.well-known/x/'],
      ['/%2Ehidden', '/.hidden'],
    ] as const) {
      assert.deepEqual(parseRequestTarget(path), { path: normal, search: '', pathParameters: false }, path);
    }
  });
});
