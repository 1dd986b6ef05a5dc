/**
 * Compact JWS signing of the gateway's own tokens with `node:crypto` (RFC 7515 §7.1, RFC 7518 §3).
 * jose's `SignJWT` over WebCrypto cost twice the signature itself per token (claims builder, header
 * serialisation, WebCrypto's algorithm normalisation and key checks: ~80 µs CPU against ~35 µs for
 * `crypto.sign` on the same ES256 key, see docs/benchmarks.md "Token endpoint"), and the token
 * endpoint does little else. Each signer is built once per key pair (when key pairs are compiled):
 * the private key parsed, the signing options chosen, the protected header segment encoded once per
 * `typ`. An RSA signature (~1 ms) is computed on libuv's thread pool (the callback form), as WebCrypto
 * did, so it never holds the event loop, and so are P-384 and P-521 ones; ES256 and EdDSA signatures
 * (~35-45 µs) are computed on the loop in the turn's batch (`signing-batch.ts`: the caches stay warm
 * from one to the next). Verification stays jose's.
 */
import { constants, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { keyProblem, type SigningAlgorithm } from './entity.js';
import { batched } from './signing-batch.js';

/** Signs compact JWTs with one key pair's private key. */
export interface JwsSigner {
  /** `header.payload.signature`, the header `{alg, kid, typ}`. */
  sign(payload: object, typ: string): Promise<string>;
}

/** The digest and key options of `alg` for `crypto.sign` (RFC 7518 §3.1). */
function signOptions(alg: SigningAlgorithm, privateKey: KeyObject): { digest: string | null; key: SignKeyObjectInput } {
  if (alg === 'EdDSA') return { digest: null, key: { key: privateKey } };
  const digest = `sha${alg.slice(2)}`;
  // JWS carries ECDSA signatures as r || s (IEEE P1363), not DER.
  if (alg.startsWith('ES')) return { digest, key: { key: privateKey, dsaEncoding: 'ieee-p1363' } };
  // RSASSA-PSS with a salt as long as the digest (RFC 7518 §3.5).
  if (alg.startsWith('PS'))
    return {
      digest,
      key: { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
    };
  return { digest, key: { key: privateKey } };
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Signed on the event loop in batches (~35-45 µs each); the others (RSA, P-384, P-521) on the thread pool. */
const FAST_ALGORITHMS: ReadonlySet<SigningAlgorithm> = new Set(['ES256', 'EdDSA']);

/** A signer for the key pair whose current key is `kid`, signing with `alg`. */
export function createJwsSigner(alg: SigningAlgorithm, kid: string, privateKey: KeyObject): JwsSigner {
  // jose refused a key that does not fit the algorithm (an ES256 header over a P-384 signature would
  // be a token nobody can verify): such a key still refuses every signature.
  const problem = keyProblem(privateKey, alg);
  if (problem !== null) return { sign: () => Promise.reject(new Error(`Cannot sign with ${alg}: ${problem}`)) };
  const { digest, key } = signOptions(alg, privateKey);
  // Callers use one or two `typ` values: the encoded header of each is kept.
  const headers = new Map<string, string>();
  const headerSegment = (typ: string) => {
    let segment = headers.get(typ);
    if (segment === undefined) {
      segment = base64url(JSON.stringify({ alg, kid, typ }));
      headers.set(typ, segment);
    }
    return segment;
  };
  // The signing input is base64url and a dot: ASCII, copied as such (no UTF-8 encoding pass).
  const signingInput = (payload: object, typ: string) => `${headerSegment(typ)}.${base64url(JSON.stringify(payload))}`;
  if (FAST_ALGORITHMS.has(alg))
    return {
      sign(payload, typ) {
        const input = signingInput(payload, typ);
        return batched(() => `${input}.${sign(digest, Buffer.from(input, 'latin1'), key).toString('base64url')}`);
      },
    };
  return {
    sign(payload, typ) {
      const input = signingInput(payload, typ);
      return new Promise((resolve, reject) =>
        sign(digest, Buffer.from(input, 'latin1'), key, (error, signature) =>
          error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`),
        ),
      );
    },
  };
}
