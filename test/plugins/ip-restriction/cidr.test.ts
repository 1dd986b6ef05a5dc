import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressWords, compileMatcher, parseCidr, type Cidr } from '../../../plugins/ip-restriction/cidr.js';

function matcher(...ranges: string[]) {
  const match = compileMatcher(
    ranges.map((r) => {
      const parsed = parseCidr(r);
      assert.notEqual(typeof parsed, 'string', `${r}: ${String(parsed)}`);
      return parsed as Cidr;
    }),
  );
  return (address: string) => {
    const words = addressWords(address);
    assert.ok(words, `${address} parses`);
    return match(words);
  };
}

describe('Plugin: ip-restriction (ranges)', () => {
  it('matches IPv4 ranges of any prefix length, single addresses, and /0', () => {
    const match = matcher('10.0.0.0/8', '192.168.1.0/24', '203.0.113.66', '172.16.0.0/12');
    for (const inside of ['10.0.0.0', '10.255.255.255', '192.168.1.200', '203.0.113.66', '172.31.0.1'])
      assert.equal(match(inside), true, inside);
    for (const outside of ['11.0.0.0', '192.168.2.1', '203.0.113.67', '172.32.0.1', '9.255.255.255'])
      assert.equal(match(outside), false, outside);
    assert.equal(matcher('0.0.0.0/0')('255.255.255.255'), true);
    assert.equal(matcher('0.0.0.0/0')('2001:db8::1'), false, 'an IPv4 range never matches a native IPv6 address');
  });

  it('matches IPv6 ranges, compressed or not, with and without a zone', () => {
    const match = matcher('2001:db8::/32', 'fe80::/10', '2001:db8:0:0:0:0:0:1/128');
    for (const inside of ['2001:db8::1', '2001:0db8:ffff::', 'fe80::1%eth0', '2001:db8:0:0:0:0:0:1'])
      assert.equal(match(inside), true, inside);
    for (const outside of ['2001:db9::1', '::1', 'fec0::1']) assert.equal(match(outside), false, outside);
    assert.equal(matcher('::/0')('::1'), true);
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address, both ways', () => {
    assert.equal(matcher('203.0.113.0/24')('::ffff:203.0.113.7'), true);
    assert.equal(matcher('203.0.113.0/24')('::ffff:cb00:7107'), true, 'hexadecimal mapped form');
    assert.equal(matcher('::ffff:203.0.113.0/120')('203.0.113.7'), true);
    assert.equal(matcher('::ffff:0:0/96')('198.51.100.1'), true, 'the whole mapped range is every IPv4 address');
    assert.equal(matcher('203.0.113.0/24')('::ffff:198.51.100.7'), false);
  });

  it('refuses what is not a range, saying why', () => {
    for (const [text, reason] of [
      ['10.0.0.1/8', /host bits are set: did you mean 10\.0\.0\.0\/8/],
      ['2001:db8::1/32', /host bits are set/],
      ['10.0.0.0/33', /at most 32/],
      ['::/129', /at most 128/],
      ['10.0.0.256', /not an IPv4 or IPv6 address/],
      ['010.0.0.1', /not an IPv4 or IPv6 address/],
      ['1.2.3', /not an IPv4 or IPv6 address/],
      ['2001:db8:::1', /not an IPv4 or IPv6 address/],
      ['10.0.0.0/', /not a prefix length/],
      ['fe80::1%eth0/64', /not an IPv4 or IPv6 address/],
    ] as const) {
      const parsed = parseCidr(text);
      assert.equal(typeof parsed, 'string', text);
      assert.match(parsed as string, reason, text);
    }
  });

  it('reads no address out of malformed text (per request: null, never an exception)', () => {
    for (const text of ['', 'unknown', '1.2.3.4.5', '1.2.3.04', '::ffff:1.2.3', '1:2:3:4:5:6:7:8:9', 'g::1', '1::2::3'])
      assert.equal(addressWords(text), null, text);
  });
});
