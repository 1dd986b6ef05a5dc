/**
 * The SSRF guard's address judgement (issue 21): every IPv6 form that carries an IPv4 address is
 * judged by that address, in its dotted and hex spellings, and the IPv6 ranges that lead inside a
 * site (site-local, local-use NAT64, Teredo) are refused whole. Public addresses in the same forms
 * stay allowed, so the guard does not refuse the NAT64 path of an IPv6-only deployment.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jwksUriProblem, nonPublicAddress, nonPublicLiteral } from '../../../core/keys/jwks-uri-guard.js';

/** [address, what the refusal says] for addresses a portal's JWKS URL may not name. */
const REFUSED: ReadonlyArray<[string, RegExp]> = [
  ['::ffff:127.0.0.1', /loopback/],
  ['::ffff:7f00:1', /loopback/],
  ['::127.0.0.1', /IPv4-compatible form of 127\.0\.0\.1, a loopback address/],
  ['::7f00:1', /IPv4-compatible form of 127\.0\.0\.1, a loopback address/],
  ['::a9fe:a9fe', /IPv4-compatible form of 169\.254\.169\.254, a link-local address/],
  ['::ffff:0:10.0.0.1', /IPv4-translated form of 10\.0\.0\.1, a private address/],
  ['64:ff9b::127.0.0.1', /NAT64 form of 127\.0\.0\.1, a loopback address/],
  ['64:ff9b::a9fe:a9fe', /NAT64 form of 169\.254\.169\.254, a link-local address/],
  ['64:ff9b:1::1', /local-use NAT64 address/],
  ['64:ff9b:1:ffff::8.8.8.8', /local-use NAT64 address/],
  ['2002:7f00:1::', /6to4 form of 127\.0\.0\.1, a loopback address/],
  ['2002:a9fe:a9fe::1', /6to4 form of 169\.254\.169\.254, a link-local address/],
  ['2002:c0a8:101:5::1', /6to4 form of 192\.168\.1\.1, a private address/],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo address/],
  ['fec0::1', /site-local address/],
  ['feff:ffff::1', /site-local address/],
  ['FEC0:0:0:0:0:0:0:1', /site-local address/],
  ['::', /unspecified address/],
  ['::1', /loopback address/],
];

/** Addresses that stay public: the same forms around public IPv4 addresses, and ordinary IPv6. */
const ALLOWED: readonly string[] = [
  '8.8.8.8',
  '::ffff:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '2606:4700:4700::1111',
  'fbff::1',
  'fe7f::1', // just below fe80::/10
];

describe('Core: JWKS URL guard (IPv6 forms of internal addresses)', () => {
  for (const [address, what] of REFUSED) {
    it(`refuses ${address}`, async () => {
      assert.match(nonPublicAddress(address) ?? 'allowed', what);
      // The same judgement when a portal writes the URL and when the gateway fetches it.
      assert.match((await jwksUriProblem(`https://[${address}]/jwks.json`, [])) ?? 'allowed', what);
      assert.match(nonPublicLiteral(`https://[${address}]/jwks.json`) ?? 'allowed', what);
    });
  }
  for (const address of ALLOWED) {
    it(`allows ${address}`, () => {
      assert.equal(nonPublicAddress(address), null);
    });
  }
});
