/**
 * Admin endpoints of the `oauth2` plugin: the live grants by client or by user, and their
 * revocation (one grant; every grant of a user leaving; every grant of a compromised client).
 * Tokens appear as SHA-256 digests only: the gateway never holds their values.
 */
import {
  NotFoundError,
  BadRequestError,
  RevocationList,
  RevocationEpoch,
  grantLiveness,
  type AdminExtension,
  type AdminRoute,
  type ClientDirectory,
  type StateStore,
} from '../../core/plugin-api.js';
import { GrantStore, type GrantView, type TokenRecord } from './grant-store.js';

export class OAuth2Admin implements AdminExtension {
  readonly #grants: GrantStore;
  readonly #revocations: RevocationList;
  readonly #clients: ClientDirectory;

  constructor(state: StateStore, revocations: RevocationList, epoch: RevocationEpoch, clients: ClientDirectory) {
    this.#grants = new GrantStore(state, epoch);
    this.#revocations = revocations;
    this.#clients = clients;
  }

  routes(): AdminRoute[] {
    const grants = this.#grants;
    const revocations = this.#revocations;
    /** A grant's tokens refused from now on; a single JWT also by its jti, which routes check without the store. */
    async function revoke(grant: GrantView): Promise<void> {
      const jwt = await grants.revokeGrant(grant);
      if (jwt?.jti) await revocations.revoke(jwt.jti, jwt.clientId, jwt.exp);
    }
    const filterOf = (query: URLSearchParams) => ({
      clientId: query.get('client') ?? undefined,
      userId: query.get('user') ?? undefined,
    });
    // Listed live only when a route would accept it: the one liveness check (client, cut-off, revoked jti).
    const sources = { clients: this.#clients, revocations };
    const alive = (record: TokenRecord) =>
      grantLiveness({ clientId: record.clientId, iat: record.iat, exp: record.exp, jti: record.jti }, sources).alive;
    return [
      {
        method: 'GET',
        path: '/api/oauth2/grants',
        async handler({ query }) {
          return { body: await grants.listGrants(filterOf(query), alive) };
        },
      },
      {
        method: 'DELETE',
        path: '/api/oauth2/grants/:grant',
        async handler({ params }) {
          const grant = (await grants.listGrants({}, alive)).find((g) => g.grant === params.grant);
          if (!grant) throw new NotFoundError(`No live grant "${params.grant}"`);
          await revoke(grant);
          return { status: 204 };
        },
      },
      {
        // Every grant of a client (?client=) and/or of a user (?user=): one of them is required.
        method: 'POST',
        path: '/api/oauth2/grants/revoke',
        async handler({ query }) {
          const filter = filterOf(query);
          if (filter.clientId === undefined && filter.userId === undefined)
            throw new BadRequestError('Name a client (?client=) or a user (?user=)');
          const live = await grants.listGrants(filter, alive);
          for (const grant of live) await revoke(grant);
          return { body: { revoked: live.length } };
        },
      },
    ];
  }
}
