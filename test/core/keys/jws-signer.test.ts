import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { createJwsSigner } from '../../../core/keys/jws-signer.js';
import { SIGNING_ALGORITHMS, keyRequirement, type SigningAlgorithm } from '../../../core/keys/entity.js';

function privateKeyFor(alg: SigningAlgorithm): KeyObject {
  const need = keyRequirement(alg);
  if (need.type === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  if (need.type === 'ec') return generateKeyPairSync('ec', { namedCurve: need.curve! }).privateKey;
  return generateKeyPairSync('ed25519').privateKey;
}

describe('Core: JWS signer', () => {
  const payload = { iss: 'http://issuer', sub: 'client-1', aud: 'http://issuer', iat: 1_700_000_000, scope: 'a b' };

  for (const alg of SIGNING_ALGORITHMS)
    it(`a ${alg} token verifies with jose against the public key, header {alg, kid, typ}`, async () => {
      const privateKey = privateKeyFor(alg);
      const token = await createJwsSigner(alg, 'kid-1', privateKey).sign(payload, 'at+jwt');
      assert.deepEqual(decodeProtectedHeader(token), { alg, kid: 'kid-1', typ: 'at+jwt' });
      const verified = await jwtVerify(token, createPublicKey(privateKey), {
        algorithms: [alg],
        currentDate: new Date(1_700_000_000_000),
      });
      assert.deepEqual(verified.payload, payload);
    });

  it('each typ gets its own header, and a signature by another key does not verify', async () => {
    const signer = createJwsSigner('ES256', 'k', privateKeyFor('ES256'));
    const plain = await signer.sign({ sub: 'a' }, 'JWT');
    const access = await signer.sign({ sub: 'a' }, 'at+jwt');
    assert.equal(decodeProtectedHeader(plain).typ, 'JWT');
    assert.equal(decodeProtectedHeader(access).typ, 'at+jwt');
    await assert.rejects(jwtVerify(access, createPublicKey(privateKeyFor('ES256'))), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('a key of the wrong type or curve refuses to sign (rejected, not thrown)', async () => {
    await assert.rejects(createJwsSigner('ES256', 'k', privateKeyFor('EdDSA')).sign({ sub: 'a' }, 'JWT'));
    await assert.rejects(createJwsSigner('ES256', 'k', privateKeyFor('ES384')).sign({ sub: 'a' }, 'JWT'), /curve/);
    await assert.rejects(createJwsSigner('RS256', 'k', privateKeyFor('ES256')).sign({ sub: 'a' }, 'JWT'));
  });
});
