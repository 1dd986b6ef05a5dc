/**
 * The client credentials service's tokens: RFC 9068 JWTs (`typ: at+jwt`) for a client, signed by
 * the key pair its API key names in `jwt-sign-keypair` metadata (else the service's default), with
 * the issuer of the request's authorization server; verified statelessly (`verifyGatewayToken`:
 * signature, claims and `grantLiveness`), so no record is kept.
 */
import { randomUUID } from 'node:crypto';
import { UnauthorizedClientError } from '../../errors.js';
import { JWT_SIGN_KEYPAIR, type IndexedClient } from '../../keys/clients.js';
import type { KeyService } from '../../keys/key-service.js';
import type { GrantSources } from '../../keys/grant-liveness.js';
import { verifyGatewayToken, type GatewayTokenResult } from '../../keys/gateway-tokens.js';

export interface GatewayJwtOptions extends GrantSources {
  keys: KeyService;
  defaultKeyPair: string;
  /** `aud` of the tokens; default: the issuer. */
  audience: string | undefined;
  /** Required `iss` on verification, when the issuer is fixed. */
  fixedIssuer: string | undefined;
  ttlSeconds: number;
}

export class GatewayJwtFormat {
  readonly #options: GatewayJwtOptions;

  constructor(options: GatewayJwtOptions) {
    this.#options = options;
  }

  get ttlSeconds(): number {
    return this.#options.ttlSeconds;
  }

  /** The key pair that signs `client`'s tokens; refused (400 unauthorized_client) when it does not exist. */
  keyPairOf(client: IndexedClient): string {
    const keyPairId = client.key.metadata?.[JWT_SIGN_KEYPAIR] ?? this.#options.defaultKeyPair;
    if (!this.#options.keys.has(keyPairId))
      throw new UnauthorizedClientError(`The key pair "${keyPairId}" configured for this client does not exist`);
    return keyPairId;
  }

  sign(keyPairId: string, grant: { clientId: string; issuer: string; iat: number; scope: string }): Promise<string> {
    const { clientId, issuer, iat, scope } = grant;
    return this.#options.keys.sign(
      keyPairId,
      {
        iss: issuer,
        sub: clientId,
        aud: this.#options.audience ?? issuer,
        client_id: clientId,
        iat,
        exp: iat + this.#options.ttlSeconds,
        jti: randomUUID(),
        ...(scope ? { scope } : {}),
      },
      'at+jwt',
    );
  }

  verify(token: string): Promise<GatewayTokenResult> {
    const { keys, clients, revocations, fixedIssuer } = this.#options;
    return verifyGatewayToken(token, { issuer: fixedIssuer, keys, clients, revocations });
  }
}
