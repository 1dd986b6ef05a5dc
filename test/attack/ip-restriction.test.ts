/**
 * Attack: choosing one's own address past `ip-restriction`. X-Forwarded-For is honoured only from
 * `proxy.trustedProxies` and read from the right (the right-most address no trusted proxy wrote is
 * the client); an address has many spellings (IPv4-mapped IPv6 in dotted or hex form, upper case,
 * fully written) and every one must match the same ranges; CIDR edges (/0, /32, /128, the first and
 * last address of a range) are exact; a malformed entry is refused when it is written (ranges) or
 * when the gateway starts (trusted proxies), never at request time.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { exec } from '../helpers/cli.js';
import { ConfigError, loadBootConfig } from '../../core/config/boot-config.js';

describe('Attack: ip-restriction and X-Forwarded-For', () => {
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    // The peer (127.0.0.1) and 10.0.0.0/8 are trusted proxies; the listener is dual-stack, so the
    // peer is seen as ::ffff:127.0.0.1.
    gw = await startGateway({
      logLevel: 'silent',
      config: { proxy: { host: '::', trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } },
    });
    const restricted = (id: string, config: Record<string, unknown>) =>
      createRoute(
        gw,
        route(id, upstream.url, {
          frontend: { domains: [`${id}.test`] },
          plugins: [{ plugin: 'ip-restriction', config }],
        }),
      );
    await restricted('partners', { allow: ['203.0.113.0/24', '2001:db8::/32'], deny: ['203.0.113.66'] });
    await restricted('internal', { allow: ['192.168.0.0/16'] });
    await restricted('no-internal', { deny: ['192.168.0.0/16'] });
    await restricted('ipv4-all', { allow: ['0.0.0.0/0'] });
    await restricted('everything', { allow: ['::/0'] });
    await restricted('one-v4', { allow: ['198.51.100.7/32'] });
    await restricted('one-v6', { allow: ['2001:db8::7/128'] });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const from = (host: string, forwardedFor?: string | string[]) =>
    send(gw.proxyUrl.replace('[::]', '127.0.0.1') + '/', {
      headers: { host: `${host}.test`, ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) },
    });
  async function status(host: string, forwardedFor?: string | string[]): Promise<number> {
    const res = await from(host, forwardedFor);
    if (res.status === 403) assert.equal(res.json().error, 'ip_not_allowed');
    return res.status;
  }

  it('control: the proxy listener is dual-stack and trusts its IPv4-mapped peer (the forwarded client decides)', async () => {
    assert.match(gw.proxyUrl, /\[::\]|127\.0\.0\.1|localhost/);
    assert.equal(await status('partners', '203.0.113.7'), 200);
    assert.equal(await status('partners', '198.51.100.7'), 403);
  });

  it('rightmost-untrusted: addresses a client wrote to the left of the trusted chain prove nothing', async () => {
    assert.equal(await status('partners', '203.0.113.7, 198.51.100.7'), 403, 'the proxy appended 198.51.100.7');
    assert.equal(
      await status('partners', '203.0.113.7, 198.51.100.7, 10.0.0.5, 10.9.9.9'),
      403,
      'two trusted hops, then the real client',
    );
    assert.equal(await status('partners', '198.51.100.7, 203.0.113.7, 10.0.0.5'), 200);
  });

  it('X-Forwarded-For split over several header lines is read as one list, the last line last', async () => {
    assert.equal(await status('partners', ['203.0.113.7', '198.51.100.7']), 403);
    assert.equal(await status('partners', ['198.51.100.7', '203.0.113.7']), 200);
  });

  it('every spelling of an IPv4 address as IPv6 matches the IPv4 ranges, for allow and for deny', async () => {
    for (const spelling of [
      '::ffff:192.168.1.9',
      '::FFFF:192.168.1.9',
      '0:0:0:0:0:ffff:192.168.1.9',
      '::ffff:c0a8:109',
      '[::ffff:192.168.1.9]:4431',
    ]) {
      assert.equal(await status('internal', spelling), 200, `allow ${spelling}`);
      assert.equal(await status('no-internal', spelling), 403, `deny ${spelling}`);
    }
    assert.equal(
      await status('partners', '::ffff:203.0.113.66'),
      403,
      'a denied address inside the allowed range, mapped',
    );
  });

  it('numeric forms that are not dotted-quad IPv4 (octal, hex, integer, short) never match a range: the walk stops at the trusted proxy', async () => {
    for (const trick of [
      '0300.0250.1.9',
      '0xc0.0xa8.1.9',
      '3232235785',
      '192.168.265',
      '192.168.1.9.1',
      '192.168.01.9',
      '192.168.1.9%eth0',
      'unknown',
      '_hidden',
      '',
    ]) {
      assert.equal(await status('internal', trick), 403, JSON.stringify(trick));
      assert.equal(await status('internal', `192.168.1.9, ${trick}`), 403, `behind ${JSON.stringify(trick)}`);
    }
  });

  it('CIDR edges: the first and last address of a range, /0, /32 and /128 are exact', async () => {
    assert.equal(await status('partners', '203.0.113.0'), 200);
    assert.equal(await status('partners', '203.0.113.255'), 200);
    assert.equal(await status('partners', '203.0.112.255'), 403);
    assert.equal(await status('partners', '203.0.114.0'), 403);
    assert.equal(await status('partners', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), 200);
    assert.equal(await status('partners', '2001:db9::'), 403);
    assert.equal(await status('ipv4-all', '255.255.255.255'), 200);
    assert.equal(await status('ipv4-all', '0.0.0.0'), 200);
    assert.equal(await status('ipv4-all', '2001:db8::1'), 403, 'an IPv4 /0 is not every IPv6 address');
    assert.equal(await status('everything', '2001:db8::1'), 200);
    assert.equal(await status('everything', '198.51.100.7'), 200, '::/0 contains the IPv4-mapped addresses');
    assert.equal(await status('one-v4', '198.51.100.7'), 200);
    assert.equal(await status('one-v4', '198.51.100.6'), 403);
    assert.equal(await status('one-v4', '198.51.100.8'), 403);
    assert.equal(await status('one-v6', '2001:db8::7'), 200);
    assert.equal(await status('one-v6', '2001:0db8:0000:0000:0000:0000:0000:0007'), 200);
    assert.equal(await status('one-v6', '2001:db8::6'), 403);
    assert.equal(await status('one-v6', '2001:db8::8'), 403);
  });

  it('a long chain of trusted hops is walked to the client, and an oversized header is refused with 431 JSON (RFC 6585), never 5xx', async () => {
    const hops = Array.from({ length: 500 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    assert.equal(await status('partners', `198.51.100.7, 203.0.113.7, ${hops}`), 200);
    const huge = await from('partners', `203.0.113.7, ${'10.0.0.1, '.repeat(20_000)}10.0.0.1`);
    assert.equal(huge.status, 431, huge.text);
    assert.equal(huge.json().error, 'request_header_fields_too_large');
  });

  it('refuses malformed and host-bit ranges at write time with 400 naming each path', async () => {
    const bad = [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.1/8',
      '::ffff:10.0.0.0/8',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '10.0.0.256',
      '1.2.3',
      '2001:db8:::/32',
      'fe80::1%eth0',
      '010.0.0.0/8',
    ];
    for (const range of bad) {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('bad', upstream.url, {
          frontend: { domains: ['bad.test'] },
          plugins: [{ plugin: 'ip-restriction', config: { allow: ['192.0.2.0/24', range], deny: [range] } }],
        }),
      );
      assert.equal(res.status, 400, `${range}: ${res.text}`);
      const paths = new Set(res.json().details.map((d: { path: string }) => d.path));
      assert.ok(
        paths.has('/plugins/0/config/allow/1') && paths.has('/plugins/0/config/deny/0'),
        `${range}: ${res.text.slice(0, 600)}`,
      );
    }
    assert.equal((await gw.admin('GET', '/api/routes/bad')).status, 404);
  });
});

describe('Attack: malformed trusted proxies are refused at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-trusted-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function load(section: 'proxy' | 'authorizer', entries: string[]): unknown {
    const file = join(dir, `${section}.json`);
    writeFileSync(file, JSON.stringify({ [section]: { trustedProxies: entries } }));
    try {
      return loadBootConfig({ file, env: {} });
    } catch (error) {
      return error;
    }
  }

  it('an entry that is not an address, or a prefix out of range, is a configuration error naming it', () => {
    for (const section of ['proxy', 'authorizer'] as const) {
      for (const entry of ['999.1.1.1', '1.2.3', ':::', '10.0.0.0/33', '::1/129', '10.0.0.0/8/8', '10.0.0.0/']) {
        const loaded = load(section, ['127.0.0.1', entry]);
        assert.ok(loaded instanceof ConfigError, `${section} ${entry}: ${String(loaded)}`);
        assert.match(loaded.message, new RegExp(`${section}\\.trustedProxies\\.1 `));
        assert.ok(loaded.message.includes(JSON.stringify(entry)), loaded.message);
      }
    }
    assert.ok(!(load('proxy', ['127.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32']) instanceof Error));
  });

  it('the CLI exits with the message, not a stack trace from inside the listener', async () => {
    const file = join(dir, 'cli.json');
    writeFileSync(
      file,
      JSON.stringify({ proxy: { trustedProxies: ['999.1.1.1'] }, store: { file: join(dir, 'data.json') } }),
    );
    const { code, stdout, stderr } = await exec(
      { PORTCULLIS_PROXY_PORT: '0', PORTCULLIS_ADMIN_PORT: '0', PORTCULLIS_ADMIN_PASSWORD: 'trusted-proxies-password' },
      ['--config', file],
      dir,
    );
    assert.notEqual(code, 0);
    const output = stdout + stderr;
    assert.match(output, /proxy\.trustedProxies\.0 /);
    assert.doesNotMatch(output, /\n\s+at /, output);
  });
});
