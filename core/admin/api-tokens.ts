/**
 * API tokens for automation: bearer tokens the admin creates for a program (a self-service portal,
 * an access manager's tool) that should reach a few admin endpoints without the admin password.
 * Each token carries scopes; an endpoint lists the scopes that may call it (`AdminRoute.scopes`),
 * and the admin API refuses a token anywhere else (403). The admin's own credentials stay the
 * superuser.
 *
 * A token is `pct_<id>.<secret>`: the id finds the stored record (no scan, no timing difference
 * between tokens), the secret is compared as a salted SHA-256 digest in constant time. The secret
 * has 256 random bits, so a slow hash would add nothing; only the hash is stored, and the token
 * is shown once, in the creation answer. Deleting a token refuses it at once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { injectable } from 'tsyringe';
import { defineEntityKind, EntityId, EntityMeta, MAX_LIST_ITEMS } from '../config/entities.js';
import { EntityService } from '../config/entity-service.js';
import type { AdminCaller, AdminExtension, AdminRoute } from './extensions.js';

/** The scopes an API token may carry. */
export const API_TOKEN_SCOPES = {
  /** A portal: create access requests and read those it created. */
  createAccessRequests: 'access-requests:create',
  /** An access manager: list every access request, approve, reject, revoke. */
  decideAccessRequests: 'access-requests:decide',
} as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[keyof typeof API_TOKEN_SCOPES];

const TOKEN_PREFIX = 'pct_';
const HASH_SCHEME = 'sha256';

export const ApiTokenSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId, description: 'Generated; the public part of the token.' },
    name: Type.String({
      title: 'Name',
      minLength: 1,
      maxLength: 200,
      description: "Who uses the token (a portal, a manager's tool).",
    }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    scopes: Type.Array(Type.Union(Object.values(API_TOKEN_SCOPES).map((s) => Type.Literal(s))), {
      title: 'Scopes',
      minItems: 1,
      maxItems: MAX_LIST_ITEMS,
      uniqueItems: true,
      description:
        'What the token may do: `access-requests:create` (a portal), `access-requests:decide` (an access manager).',
    }),
    tokenHash: Type.String({
      title: 'Token hash',
      maxLength: 200,
      pattern: '^sha256\\$[A-Za-z0-9_-]+\\$[A-Za-z0-9_-]+$',
      description: "Salted hash of the token's secret; the token itself is shown once, on creation.",
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type ApiToken = Static<typeof ApiTokenSchema>;

export const API_TOKEN_KIND = defineEntityKind({
  name: 'api-tokens',
  title: 'API token',
  schema: ApiTokenSchema,
  idField: 'id',
  affectsPipelines: false,
});

function hashSecret(secret: string, salt = randomBytes(16)): string {
  return `${HASH_SCHEME}$${salt.toString('base64url')}$${createHash('sha256').update(salt).update(secret, 'utf8').digest('base64url')}`;
}

function matches(secret: string, stored: string): boolean {
  const [, salt, digest] = stored.split('$');
  const expected = Buffer.from(digest ?? '', 'base64url');
  const actual = createHash('sha256')
    .update(Buffer.from(salt ?? '', 'base64url'))
    .update(secret, 'utf8')
    .digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const ID_PATTERN = new RegExp(EntityId.pattern!);

/** Compared against when the id is unknown, so that an unknown token costs what a known one does. */
const DUMMY_HASH = hashSecret(randomBytes(32).toString('base64url'));

/** The caller behind `Authorization: Bearer <token>`, or null for an unknown, deleted or wrong token. */
export function authenticateApiToken(find: (id: string) => ApiToken | undefined, token: string): AdminCaller | null {
  const dot = token.indexOf('.');
  if (!token.startsWith(TOKEN_PREFIX) || dot === -1) return null;
  const id = token.slice(TOKEN_PREFIX.length, dot);
  const secret = token.slice(dot + 1);
  const stored = ID_PATTERN.test(id) ? find(id) : undefined;
  const ok = matches(secret, stored?.tokenHash ?? DUMMY_HASH);
  return ok && stored ? { kind: 'token', tokenId: stored.id, scopes: stored.scopes } : null;
}

/** `GET/POST /api/tokens`, `GET/DELETE /api/tokens/:id`: the admin's alone (no token manages tokens). */
@injectable()
export class ApiTokensAdmin implements AdminExtension {
  readonly #entities: EntityService;

  constructor(entities: EntityService) {
    this.#entities = entities;
  }

  routes(): AdminRoute[] {
    const entities = this.#entities;
    const kind = API_TOKEN_KIND.name;
    return [
      {
        method: 'GET',
        path: '/api/tokens',
        handler: () => ({ body: entities.list(API_TOKEN_KIND).map(presentApiToken) }),
      },
      {
        method: 'GET',
        path: '/api/tokens/:id',
        handler: ({ params }) => ({ body: presentApiToken(entities.get(API_TOKEN_KIND, params.id!)) }),
      },
      {
        method: 'DELETE',
        path: '/api/tokens/:id',
        handler: async ({ params }) => {
          await entities.delete(kind, params.id!);
          return { status: 204 };
        },
      },
      {
        method: 'POST',
        path: '/api/tokens',
        async handler(request) {
          const body = await request.body();
          const input =
            typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
          const id = randomBytes(9).toString('base64url').replace(/^[-_]/, 't');
          const secret = randomBytes(32).toString('base64url');
          // The id and hash are the server's: whatever the body says of them is replaced.
          const stored = await entities.create(kind, { ...input, id, tokenHash: hashSecret(secret) });
          return {
            status: 201,
            body: { ...presentApiToken(stored as ApiToken), token: `${TOKEN_PREFIX}${id}.${secret}` },
          };
        },
      },
    ];
  }
}

/** What the API shows of a token: never its hash. */
export function presentApiToken({ tokenHash: _hidden, ...shown }: ApiToken): Record<string, unknown> {
  return shown;
}
