/**
 * Regression (issue 10, item 10): the token endpoints refused `multipart/form-data` (what
 * tutorials send with `curl -F`) and answered 400 to unknown parameters, which RFC 6749 §3.2
 * says to ignore. Multipart text fields are read by a small bounded parser; unknown parameters
 * are ignored in every body type, whatever their JSON type; known ones stay strict.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { FormData, fetch } from 'undici';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';
import { oauthGateway, form, tokenFor, SECRET, TOKEN_PATH, INTROSPECT_PATH } from './fixtures.js';
import fc from 'fast-check';
import { parseMultipartFields, multipartBoundary } from '../../../core/oauth/multipart.js';
import { InvalidRequestError } from '../../../core/plugin-api.js';

const run = promisify(execFile);
const BOUNDARY = 'test-boundary-0123';

/** A multipart body built by hand, to control every byte. */
function multipart(
  parts: Array<{ headers: string[]; value: string }>,
  { preamble = '', epilogue = '', boundary = BOUNDARY } = {},
): string {
  return (
    preamble +
    parts.map((p) => `--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n${p.value}\r\n`).join('') +
    `--${boundary}--` +
    epilogue
  );
}
const field = (name: string, value: string) => ({ headers: [`Content-Disposition: form-data; name="${name}"`], value });
const CREDENTIALS = [
  field('grant_type', 'client_credentials'),
  field('client_id', 'cc-client'),
  field('client_secret', SECRET),
];

describe('Plugin: client-credentials (multipart/form-data and unknown parameters)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dir: string;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-multipart-'));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string, contentType: string, path = TOKEN_PATH, headers: Record<string, string> = {}) =>
    gw.proxy(path, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const postMultipart = (body: string, boundary = BOUNDARY) => post(body, `multipart/form-data; boundary=${boundary}`);
  const expectInvalidRequest = (res: Awaited<ReturnType<typeof post>>, description?: RegExp) => {
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json().error, 'invalid_request');
    if (description) assert.match(res.json().error_description, description);
    assert.equal(res.headers['cache-control'], 'no-store');
  };

  it("issues a token to curl -F (the tutorials' command)", async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-F',
      'grant_type=client_credentials',
      '-F',
      'client_id=cc-client',
      '-F',
      `client_secret=${SECRET}`,
      '-F',
      'scope=read',
      `${gw.proxyUrl}${TOKEN_PATH}`,
    ]);
    const body = JSON.parse(stdout);
    assert.equal(body.token_type, 'Bearer', stdout);
    assert.equal(decodeJwt(body.access_token).scope, 'read');
  });

  it('reads a field from a file with curl -F name=<file, refuses a file upload with curl -F name=@file', async () => {
    const secretFile = join(dir, 'secret.txt');
    writeFileSync(secretFile, SECRET);
    const base = [
      '-s',
      '-F',
      'grant_type=client_credentials',
      '-F',
      'client_id=cc-client',
      `${gw.proxyUrl}${TOKEN_PATH}`,
    ];
    const fromText = JSON.parse((await run('curl', [...base, '-F', `client_secret=<${secretFile}`])).stdout);
    assert.equal(fromText.token_type, 'Bearer', JSON.stringify(fromText));
    const upload = JSON.parse((await run('curl', [...base, '-F', `client_secret=@${secretFile}`])).stdout);
    assert.equal(upload.error, 'invalid_request');
    assert.match(upload.error_description, /file/);
  });

  it('issues a token to undici FormData, introspects with it, and refuses a Blob part', async () => {
    const data = new FormData();
    data.append('grant_type', 'client_credentials');
    data.append('client_id', 'cc-client');
    data.append('client_secret', SECRET);
    const res = await fetch(`${gw.proxyUrl}${TOKEN_PATH}`, { method: 'POST', body: data });
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    const introspection = new FormData();
    introspection.append('token', access_token);
    const active = await fetch(`${gw.proxyUrl}${INTROSPECT_PATH}`, {
      method: 'POST',
      body: introspection,
      headers: { authorization: basic('cc-client', SECRET) },
    });
    assert.equal(((await active.json()) as { active: boolean }).active, true);
    const withFile = new FormData();
    withFile.append('grant_type', 'client_credentials');
    withFile.append('client_id', 'cc-client');
    withFile.append('client_secret', new Blob([SECRET]), 'secret.txt');
    const refused = await fetch(`${gw.proxyUrl}${TOKEN_PATH}`, { method: 'POST', body: withFile });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_request');
  });

  it('ignores a preamble, an epilogue, transport padding and a quoted boundary', async () => {
    assert.equal(
      (
        await postMultipart(
          multipart(CREDENTIALS, { preamble: 'This is a preamble.\r\n', epilogue: '\r\nand an epilogue' }),
        )
      ).status,
      200,
    );
    const padded = multipart(CREDENTIALS).replaceAll(`--${BOUNDARY}\r\n`, `--${BOUNDARY}  \t\r\n`);
    assert.equal((await postMultipart(padded)).status, 200);
    const quoted = 'with space and = signs';
    assert.equal(
      (
        await post(
          multipart(CREDENTIALS, { boundary: quoted }),
          `multipart/form-data; charset=utf-8; boundary="${quoted}"`,
        )
      ).status,
      200,
    );
  });

  it('refuses malformed multipart bodies with invalid_request', async () => {
    const body = multipart(CREDENTIALS);
    expectInvalidRequest(await post(body, 'multipart/form-data'), /boundary/);
    expectInvalidRequest(await post(body, `multipart/form-data; boundary=${'x'.repeat(71)}`), /boundary/);
    expectInvalidRequest(await postMultipart(body.slice(0, -`--${BOUNDARY}--`.length)), /truncated/);
    expectInvalidRequest(await postMultipart('no parts at all'), /no part/);
    expectInvalidRequest(
      await postMultipart(multipart([...CREDENTIALS, { headers: ['X-Other: 1'], value: 'v' }])),
      /Content-Disposition/,
    );
    expectInvalidRequest(
      await postMultipart(
        multipart([...CREDENTIALS, { headers: ['Content-Disposition: form-data; name="scope'], value: 'read' }]),
      ),
      /unterminated/,
    );
    expectInvalidRequest(
      await postMultipart(
        multipart([
          ...CREDENTIALS,
          {
            headers: ['Content-Disposition: form-data; name="scope"', 'Content-Type: application/json'],
            value: '"read"',
          },
        ]),
      ),
      /text\/plain/,
    );
    expectInvalidRequest(
      await postMultipart(
        multipart([
          ...CREDENTIALS,
          {
            headers: ['Content-Disposition: form-data; name="scope"', 'Content-Transfer-Encoding: base64'],
            value: 'cmVhZA==',
          },
        ]),
      ),
      /Transfer-Encoding/,
    );
    expectInvalidRequest(await postMultipart(`--${BOUNDARY}garbage\r\n`));
  });

  it('refuses a known parameter given twice, in every body type', async () => {
    expectInvalidRequest(
      await postMultipart(multipart([...CREDENTIALS, field('grant_type', 'client_credentials')])),
      /repeated/,
    );
    expectInvalidRequest(
      await post(
        `${form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET })}&scope=read&scope=write`,
        'application/x-www-form-urlencoded',
      ),
      /repeated/,
    );
  });

  it('keeps the 64 KiB limit for multipart bodies (413)', async () => {
    const res = await postMultipart(multipart([...CREDENTIALS, field('padding', 'x'.repeat(70 * 1024))]));
    assert.equal(res.status, 413);
  });

  it('ignores unknown parameters (RFC 6749 §3.2), repeated or not, in form, multipart and JSON bodies', async () => {
    const known = { grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET };
    assert.equal(
      (await post(`${form(known)}&resource=urn%3Aorders&foo=1&foo=2`, 'application/x-www-form-urlencoded')).status,
      200,
    );
    assert.equal(
      (await postMultipart(multipart([...CREDENTIALS, field('audience', 'x'), field('audience', 'y')]))).status,
      200,
    );
    const withOddValues = `${JSON.stringify({ ...known, extra: { nested: [1, 2] }, count: 5, flag: true, nothing: null }).slice(0, -1)},"__proto__":{"scope":1}}`;
    const json = await post(withOddValues, 'application/json');
    assert.equal(json.status, 200, json.text);
    const token = await tokenFor(gw, 'cc-client');
    const introspected = await post(JSON.stringify({ token, ignored: { a: 1 } }), 'application/json', INTROSPECT_PATH, {
      authorization: basic('cc-client', SECRET),
    });
    assert.equal(introspected.json().active, true);
  });

  it('refuses a known parameter that is not a string in JSON', async () => {
    expectInvalidRequest(
      await post(
        JSON.stringify({
          grant_type: 'client_credentials',
          client_id: 'cc-client',
          client_secret: SECRET,
          scope: ['read'],
        }),
        'application/json',
      ),
      /"scope" must be a string/,
    );
    expectInvalidRequest(
      await post(
        JSON.stringify({ grant_type: 'client_credentials', client_id: 42, client_secret: SECRET }),
        'application/json',
      ),
      /"client_id" must be a string/,
    );
  });

  it('treats a parameter without a value as omitted (RFC 6749 §3.2)', async () => {
    const res = await post(
      `${form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET })}&scope=`,
      'application/x-www-form-urlencoded',
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().scope, 'read write', 'no scope asked: every scope of the key');
  });
});

describe('client-credentials multipart parser', () => {
  it('reads names with quoted-pairs, unquoted names, empty header sections and UTF-8 values', () => {
    const body = Buffer.from(
      multipart([
        { headers: ['content-disposition: form-data; name="a\\"b"'], value: 'v1' },
        { headers: ['Content-Disposition: form-data;name=plain'], value: 'héllo\r\nworld' },
      ]),
    );
    assert.deepEqual(parseMultipartFields(body, BOUNDARY), [
      ['a"b', 'v1'],
      ['plain', 'héllo\r\nworld'],
    ]);
    const noHeaders = Buffer.from(`--${BOUNDARY}\r\n\r\nvalue\r\n--${BOUNDARY}--`);
    assert.throws(() => parseMultipartFields(noHeaders, BOUNDARY), /Content-Disposition/);
  });

  it('takes the boundary from Content-Type, quoted or not, and refuses invalid ones', () => {
    assert.equal(multipartBoundary('multipart/form-data; boundary=----abc'), '----abc');
    assert.equal(multipartBoundary('multipart/form-data; boundary="a b:c"'), 'a b:c');
    for (const bad of [
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; boundary="ends with space "',
      'multipart/form-data; boundary=a; boundary=b',
    ]) {
      assert.throws(() => multipartBoundary(bad), /boundary|repeated|malformed/, bad);
    }
  });

  it('reads back any list of text fields it is given, in order (property)', () => {
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((n) => !/["\\\r\n]/.test(n));
    // Any Unicode, line breaks and boundary look-alikes included (only the boundary itself cannot occur).
    const value = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 20 }),
          fc.constantFrom('\r\n', '--', `--${BOUNDARY.slice(0, -1)}`, '\r\n\r\n'),
        ),
        { maxLength: 10 },
      )
      .map((parts) => parts.join(''))
      .filter((v) => !v.includes(BOUNDARY));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (fields) => {
        const body = Buffer.from(multipart(fields.map(([n, v]) => field(n, v))));
        assert.deepEqual(parseMultipartFields(body, BOUNDARY), fields);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers anything else with fields or an invalid_request, never another error (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        `--${BOUNDARY}`,
        `\r\n--${BOUNDARY}`,
        `--${BOUNDARY}--`,
        '\r\n',
        '\r\n\r\n',
        'Content-Disposition: form-data; name="a"',
        '; filename="f"',
        'name=',
        '"',
        '\\',
        ';',
        ' ',
        'Content-Type: text/plain',
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        try {
          parseMultipartFields(Buffer.from(pieces.join('')), BOUNDARY);
        } catch (error) {
          assert.ok(error instanceof InvalidRequestError, String(error));
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
