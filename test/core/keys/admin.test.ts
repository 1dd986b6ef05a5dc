import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { storedText } from '../../helpers/data-file.js';

describe('Key pairs (admin)', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('generates the default RS256 key pair on first start', async () => {
    const res = await gw.admin('GET', '/api/keypairs/portcullis-jwt-signing');
    assert.equal(res.status, 200);
    const pair = res.json();
    assert.equal(pair.alg, 'RS256');
    assert.equal(pair.publicJwk.kty, 'RSA');
    assert.equal(pair.privateKeyPem, undefined, 'the private key is never returned');
    assert.ok(Buffer.from(pair.publicJwk.n, 'base64url').length >= 256, 'at least 2048 bits');
  });

  for (const [alg, kty, crv] of [
    ['RS256', 'RSA'],
    ['PS256', 'RSA'],
    ['ES256', 'EC', 'P-256'],
    ['ES384', 'EC', 'P-384'],
    ['EdDSA', 'OKP', 'Ed25519'],
  ] as const) {
    it(`generates ${alg} with an RFC 7638 thumbprint as kid`, async () => {
      const res = await gw.admin('POST', '/api/keypairs', { id: `gen-${alg.toLowerCase()}`, name: alg, alg });
      assert.equal(res.status, 201, res.text);
      const pair = res.json();
      assert.equal(pair.publicJwk.kty, kty);
      if (crv) assert.equal(pair.publicJwk.crv, crv);
      assert.match(pair.kid, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(pair.publicJwk.kid, pair.kid);
      assert.equal(pair.privateKeyPem, undefined);
    });
  }

  it('imports a PEM key with a given kid, and refuses a key that does not fit the algorithm', async () => {
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const ok = await gw.admin('POST', '/api/keypairs', {
      id: 'imported',
      name: 'Imported',
      alg: 'ES256',
      kid: 'my-kid',
      privateKeyPem: privateKey,
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json().kid, 'my-kid');
    const mismatch = await gw.admin('POST', '/api/keypairs', {
      name: 'Wrong',
      alg: 'RS256',
      privateKeyPem: privateKey,
    });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json().details[0].path, '/alg');
    const garbage = await gw.admin('POST', '/api/keypairs', {
      name: 'Garbage',
      alg: 'ES256',
      privateKeyPem: 'not a key',
    });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json().details[0].path, '/privateKeyPem');
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const weak = await gw.admin('POST', '/api/keypairs', {
      name: 'Weak',
      alg: 'RS256',
      privateKeyPem: small.privateKey,
    });
    assert.equal(weak.status, 400);
    assert.match(weak.json().details[0].message, /2048/);
  });

  it('refuses a key id another key pair publishes (explicit kid, the same key again, or a retired kid)', async () => {
    const pem = () =>
      generateKeyPairSync('ec', {
        namedCurve: 'prime256v1',
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      }).privateKey;
    const first = await gw.admin('POST', '/api/keypairs', {
      id: 'kid-a',
      name: 'A',
      alg: 'ES256',
      kid: 'shared-kid',
      privateKeyPem: pem(),
    });
    assert.equal(first.status, 201, first.text);
    const sameKid = await gw.admin('POST', '/api/keypairs', {
      id: 'kid-b',
      name: 'B',
      alg: 'ES256',
      kid: 'shared-kid',
      privateKeyPem: pem(),
    });
    assert.equal(sameKid.status, 400);
    assert.deepEqual(
      sameKid.json().details.map((d: { path: string }) => d.path),
      ['/kid'],
    );
    assert.match(sameKid.json().details[0].message, /kid-a/);

    const key = pem();
    assert.equal(
      (await gw.admin('POST', '/api/keypairs', { id: 'kid-c', name: 'C', alg: 'ES256', privateKeyPem: key })).status,
      201,
    );
    const sameKey = await gw.admin('POST', '/api/keypairs', {
      id: 'kid-d',
      name: 'D',
      alg: 'ES256',
      privateKeyPem: key,
    });
    assert.equal(sameKey.status, 400, 'the same key has the same thumbprint kid');

    const rotated = await gw.admin('POST', '/api/keypairs/kid-a/rotate', { retireAfterSeconds: 60 });
    assert.equal(rotated.status, 200, rotated.text);
    const retired = await gw.admin('POST', '/api/keypairs', {
      id: 'kid-e',
      name: 'E',
      alg: 'ES256',
      kid: 'shared-kid',
      privateKeyPem: pem(),
    });
    assert.equal(retired.status, 400, 'a retired kid still verifies tokens until it retires');

    const edit = await gw.admin('PUT', '/api/keypairs/kid-c', { name: 'C renamed', alg: 'ES256' });
    assert.equal(edit.status, 200, 'a pair does not collide with itself');
  });

  it('imports a private JWK', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const res = await gw.admin('POST', '/api/keypairs', { id: 'from-jwk', name: 'JWK', alg: 'EdDSA', privateJwk: jwk });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json().publicJwk.x, jwk.x);
    assert.equal(res.json().privateJwk, undefined);
  });

  it('refuses an unknown algorithm', async () => {
    assert.equal((await gw.admin('POST', '/api/keypairs', { name: 'x', alg: 'HS256' })).status, 400);
    assert.equal((await gw.admin('POST', '/api/keypairs', { name: 'x', alg: 'none' })).status, 400);
  });

  it('edits name and exposure without touching the key material', async () => {
    const before = (await gw.admin('GET', '/api/keypairs/gen-es256')).json();
    const res = await gw.admin('PUT', '/api/keypairs/gen-es256', { ...before, name: 'Renamed', exposed: false });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().kid, before.kid);
    assert.deepEqual(res.json().publicJwk, before.publicJwk);
    const changeAlg = await gw.admin('PUT', '/api/keypairs/gen-es256', { ...res.json(), alg: 'ES384' });
    assert.equal(changeAlg.status, 400);
  });

  it('rotates: a new kid, the old public key kept as previous until it retires', async () => {
    const before = (await gw.admin('GET', '/api/keypairs/gen-rs256')).json();
    const res = await gw.admin('POST', '/api/keypairs/gen-rs256/rotate', { retireAfterSeconds: 120 });
    assert.equal(res.status, 200, res.text);
    const after = res.json();
    assert.notEqual(after.kid, before.kid);
    assert.equal(after.previousKeys[0].kid, before.kid);
    const retireIn = Date.parse(after.previousKeys[0].retireAt) - Date.now();
    assert.ok(retireIn > 100_000 && retireIn <= 120_000, `retires in ${retireIn} ms`);
    assert.equal(after.privateKeyPem, undefined);
  });

  it('exports private keys only when asked', async () => {
    const plain = (await gw.admin('GET', '/api/export')).json();
    assert.ok(plain.keypairs.length > 0);
    assert.ok(plain.keypairs.every((k: any) => k.privateKeyPem === undefined));
    const full = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    assert.ok(
      full.keypairs.every((k: any) => typeof k.privateKeyPem === 'string' && k.privateKeyPem.includes('PRIVATE KEY')),
    );
    assert.ok(!JSON.stringify(gw.logs).includes('PRIVATE KEY'), 'private keys never logged');
    assert.match(await storedText(gw.dataFile), /PRIVATE KEY/, 'stored in the data file (mode 0600)');
  });

  it('refuses to delete a key pair an API key signs with, then deletes it once unused', async () => {
    await gw.admin('POST', '/api/keypairs', { id: 'in-use', name: 'In use', alg: 'ES256' });
    const key = await gw.admin('POST', '/api/apikeys', {
      clientId: 'signer',
      clientName: 'S',
      metadata: { 'jwt-sign-keypair': 'in-use' },
    });
    assert.equal(key.status, 201, key.text);
    const refused = await gw.admin('DELETE', '/api/keypairs/in-use');
    assert.equal(refused.status, 409);
    assert.match(refused.json().error_description, /signer/);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/signer')).status, 204);
    assert.equal((await gw.admin('DELETE', '/api/keypairs/in-use')).status, 204);
  });

  it('refuses API key metadata naming a key pair that does not exist', async () => {
    const res = await gw.admin('POST', '/api/apikeys', { clientName: 'x', metadata: { 'jwt-sign-keypair': 'nope' } });
    assert.equal(res.status, 400);
    assert.equal(res.json().details[0].path, '/metadata/jwt-sign-keypair');
  });
});
