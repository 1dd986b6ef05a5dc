/**
 * Compact JWS signing of the gateway's own tokens with `node:crypto` (RFC 7515 §7.1, RFC 7518 §3).
 * jose's `SignJWT` over WebCrypto cost twice the signature itself per token (claims builder, header
 * serialisation, WebCrypto's algorithm normalisation and key checks: ~80 µs CPU against ~35 µs for
 * `crypto.sign` on the same ES256 key, see docs/benchmarks.md "Token endpoint"), and the token
 * endpoint does little else. Each signer is built once per key pair (when key pairs are compiled):
 * the private key parsed, the signing options chosen, the protected header segment encoded once per
 * `typ`. The signature is computed on libuv's thread pool (the callback form), as WebCrypto did, so
 * a slow RSA signature never holds the event loop. Verification stays jose's.
 */
import { constants, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { keyProblem, type SigningAlgorithm } from './entity.js';

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
  return {
    sign(payload, typ) {
      const input = `${headerSegment(typ)}.${base64url(JSON.stringify(payload))}`;
      // The signing input is base64url and a dot: ASCII, copied as such (no UTF-8 encoding pass).
      return new Promise((resolve, reject) =>
        sign(digest, Buffer.from(input, 'latin1'), key, (error, signature) =>
          error ? reject(error) : resolve(`${input}.${signature.toString('base64url')}`),
        ),
      );
    },
  };
}
