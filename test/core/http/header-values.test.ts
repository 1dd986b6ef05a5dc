/**
 * The one encoding of identity values sent upstream as headers (issue 21): which values pass as
 * they are, which are percent-encoded and how, and that every encoded value decodes back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimHeaderValue, headerValue, unsendableHeader } from '../../../core/http/header-values.js';

const AS_IS: readonly string[] = [
  'alice',
  'alice@example.com',
  'Alice Smith',
  'a\tb',
  '100%',
  '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  '',
];

const ENCODED: ReadonlyArray<[string, string]> = [
  ['山田', '%E5%B1%B1%E7%94%B0'],
  ['😀', '%F0%9F%98%80'],
  ['a\u2028b', 'a%E2%80%A8b'],
  ['a\r\nb', 'a%0D%0Ab'],
  ['a\u0000', 'a%00'],
  ['a\u007f', 'a%7F'],
  ['José', 'Jos%C3%A9'],
  [' alice', '%20alice'],
  ['alice\t', 'alice%09'],
  ['100% 山', '100%25%20%E5%B1%B1'],
  ['50%41', '50%2541'],
  ['%e5%b1%b1', '%25e5%25b1%25b1'],
  ['\ud800', '%EF%BF%BD'], // a lone surrogate has no UTF-8 form: U+FFFD
];

describe('Core: header values from tokens and providers', () => {
  for (const value of AS_IS) {
    it(`sends ${JSON.stringify(value)} as it is`, () => assert.equal(headerValue(value), value));
  }
  for (const [value, encoded] of ENCODED) {
    it(`sends ${JSON.stringify(value)} as ${encoded}`, () => {
      assert.equal(headerValue(value), encoded);
      assert.match(encoded, /^[\x21-\x7e]*$/, 'visible ASCII only');
      if (value !== '\ud800') assert.equal(decodeURIComponent(encoded), value);
    });
  }
  it('an upstream decodes without guessing: decodeURIComponent gives back encoded values, throws on values sent as is that contain %', () => {
    const received = (value: string) => {
      const sent = headerValue(value);
      try {
        return decodeURIComponent(sent);
      } catch {
        return sent;
      }
    };
    for (const value of [...AS_IS, ...ENCODED.map(([v]) => v).filter((v) => v !== '\ud800')])
      assert.equal(received(value), value);
  });
  it('claims: arrays joined by spaces, other values as JSON, then the same encoding', () => {
    assert.equal(claimHeaderValue(['read', 'write']), 'read write');
    assert.equal(claimHeaderValue(['a', 'ü']), 'a%20%C3%BC');
    assert.equal(claimHeaderValue({ role: 'x' }), '{"role":"x"}');
    assert.equal(claimHeaderValue(42), '42');
  });
  it('names the header undici or node:http refused, and nothing for other errors', () => {
    assert.equal(
      unsendableHeader(Object.assign(new Error('invalid x-shop header'), { code: 'UND_ERR_INVALID_ARG' })),
      'x-shop',
    );
    assert.equal(
      unsendableHeader(
        Object.assign(new TypeError('Invalid character in header content ["x-shop"]'), { code: 'ERR_INVALID_CHAR' }),
      ),
      'x-shop',
    );
    assert.equal(unsendableHeader(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), null);
    assert.equal(unsendableHeader(null), null);
  });
});
