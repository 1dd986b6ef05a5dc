/**
 * Admin endpoints for key pairs: CRUD without ever returning a private key, generation off the
 * event loop when no key is given, and rotation with overlap.
 */
import { injectable } from 'tsyringe';
import { Type } from '@sinclair/typebox';
import { compileValidator } from '../config/schema.js';
import { entityRoutes } from '../admin/admin-api.js';
import type { AdminExtension, AdminRoute } from '../admin/extensions.js';
import { EntityService } from '../config/entity-service.js';
import { BadRequestError } from '../errors.js';
import { KeyService } from './key-service.js';
import { createPrivateKey } from 'node:crypto';
import {
  KEYPAIR_KIND,
  KEYPAIRS,
  SIGNING_ALGORITHMS,
  publicJwkOf,
  type PreviousKey,
  type SigningAlgorithm,
} from './entity.js';

/** How long a rotated-out key stays by default: the default token lifetime. */
export const DEFAULT_RETIRE_AFTER_SECONDS = 3600;
/** The longest overlap: a year (a longer one is a mistake, and past ~8.6e12 s no Date can hold it). */
export const MAX_RETIRE_AFTER_SECONDS = 366 * 86_400;

const RotationOptions = compileValidator(
  Type.Object(
    {
      retireAfterSeconds: Type.Integer({
        minimum: 0,
        maximum: MAX_RETIRE_AFTER_SECONDS,
        default: DEFAULT_RETIRE_AFTER_SECONDS,
        description: 'How long the previous public key stays in the JWKS (at least until the tokens it signed expire).',
      }),
    },
    { additionalProperties: false },
  ),
);

@injectable()
export class KeyPairsAdmin implements AdminExtension {
  readonly #entities: EntityService;
  readonly #keys: KeyService;

  constructor(entities: EntityService, keys: KeyService) {
    this.#entities = entities;
    this.#keys = keys;
  }

  routes(): AdminRoute[] {
    const entities = this.#entities;
    const keys = this.#keys;
    return [
      ...entityRoutes(entities, KEYPAIRS).filter((r) => !(r.method === 'POST' && r.path === `/api/${KEYPAIRS}`)),
      {
        method: 'POST',
        path: `/api/${KEYPAIRS}`,
        async handler(request) {
          const body = await request.body();
          if (typeof body !== 'object' || body === null || Array.isArray(body))
            throw new BadRequestError('The key pair must be a JSON object');
          const input = { ...(body as Record<string, unknown>) };
          if (input.privateKeyPem === undefined && input.privateJwk === undefined) {
            const alg = (input.alg ?? 'RS256') as SigningAlgorithm;
            if (!SIGNING_ALGORITHMS.includes(alg))
              throw new BadRequestError(
                `Unsupported algorithm ${JSON.stringify(input.alg)}; use one of ${SIGNING_ALGORITHMS.join(', ')}`,
              );
            input.privateKeyPem = await keys.generate(alg);
          }
          return { status: 201, body: entities.present(KEYPAIRS, await entities.create(KEYPAIRS, input)) };
        },
        doc: {
          summary: 'Create a key pair',
          description:
            'Without `privateKeyPem` or `privateJwk`, a key is generated for `alg` (RS256 by default); the private key is never returned.',
          body: KEYPAIR_KIND.schema,
          responses: { 201: KEYPAIR_KIND.schema },
        },
      },
      {
        method: 'POST',
        path: `/api/${KEYPAIRS}/:id/rotate`,
        async handler(request) {
          const current = entities.get(KEYPAIR_KIND, request.params.id!);
          const body = (await request.optionalBody()) ?? {};
          if (typeof body !== 'object' || body === null || Array.isArray(body))
            throw new BadRequestError('The rotation options must be a JSON object');
          const retireAfter = RotationOptions.parse(body, 'rotation options').retireAfterSeconds;
          const now = Date.now();
          const retiring: PreviousKey = {
            kid: current.kid!,
            alg: current.alg,
            publicJwk: current.publicJwk!,
            retiredAt: new Date(now).toISOString(),
            // every token the old key signed has expired by then
            retireAt: new Date(Math.max(now + retireAfter * 1000, keys.maxSignedExpiry(current.kid!))).toISOString(),
          };
          const stillLive = (current.previousKeys ?? []).filter((p) => Date.parse(p.retireAt) > now);
          const privateKeyPem = await keys.generate(current.alg);
          const publicJwk = publicJwkOf(createPrivateKey(privateKeyPem), undefined, current.alg);
          const next = await entities.replace(KEYPAIRS, current.id, {
            ...current,
            kid: publicJwk.kid,
            publicJwk,
            privateKeyPem,
            previousKeys: [retiring, ...stillLive],
          });
          return { body: entities.present(KEYPAIRS, next) };
        },
        doc: {
          summary: 'Rotate a key pair',
          description:
            'A new key under the same id; the previous public key stays in the JWKS until `retireAfterSeconds` and every token it signed has expired.',
          body: RotationOptions.schema,
          optionalBody: true,
          responses: { 200: KEYPAIR_KIND.schema },
        },
      },
    ];
  }
}
