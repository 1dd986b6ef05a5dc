/**
 * The signing batch (issue 24): signatures asked for during one turn are computed together right
 * after it, in order, at most MAX_BATCH per turn, and one failing signature rejects only its own
 * promise.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import { batched, MAX_BATCH } from '../../../core/keys/signing-batch.js';
import { createJwsSigner } from '../../../core/keys/jws-signer.js';

describe('Core: signing batch', () => {
  it('computes after the turn that asked, in the order asked', async () => {
    const order: number[] = [];
    const pending = [1, 2, 3].map((n) => batched(() => (order.push(n), n * 10)));
    assert.deepEqual(order, [], 'nothing computed while the turn runs');
    assert.deepEqual(await Promise.all(pending), [10, 20, 30]);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('computes at most MAX_BATCH per turn and the rest in the next (other callbacks run between)', async () => {
    const order: string[] = [];
    const pending = Array.from({ length: MAX_BATCH + 3 }, (_, i) => batched(() => order.push(`job ${i}`)));
    const between = new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push('between');
        resolve();
      }),
    );
    await Promise.all([...pending, between]);
    assert.equal(order.indexOf('between'), MAX_BATCH);
    assert.equal(order.length, MAX_BATCH + 4);
  });

  it('a failing computation rejects its own promise only', async () => {
    const results = await Promise.allSettled([
      batched(() => 'a'),
      batched(() => {
        throw new Error('no');
      }),
      batched(() => 'c'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('ES256 and EdDSA tokens signed in one turn each verify with their own key', async () => {
    const keys = [
      { alg: 'ES256', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
      { alg: 'EdDSA', pair: generateKeyPairSync('ed25519') },
    ] as const;
    const signers = keys.map(({ alg, pair }) => createJwsSigner(alg, `kid-${alg}`, pair.privateKey));
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => signers[i % 2]!.sign({ sub: `client-${i}` }, 'at+jwt')),
    );
    for (const [i, token] of tokens.entries()) {
      const { alg, pair } = keys[i % 2]!;
      const { payload } = await jwtVerify(token, createPublicKey(pair.privateKey), { algorithms: [alg] });
      assert.equal(payload.sub, `client-${i}`);
    }
  });
});
