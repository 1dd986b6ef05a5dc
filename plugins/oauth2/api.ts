/**
 * Admin endpoints of the `oauth2` plugin: the live grants by client or by user, and their
 * revocation (one grant; every grant of a user leaving; every grant of a compromised client).
 * Tokens appear as SHA-256 digests only: the gateway never holds their values.
 */
import { inject, injectable } from 'tsyringe';
import { NotFoundError, BadRequestError, STATE_STORE, RevocationEpoch, type AdminExtension, type AdminRoute, type StateStore } from '../../core/plugin-api.js';
import { GrantStore } from './grant-store.js';

@injectable()
export class OAuth2Admin implements AdminExtension {
  readonly #grants: GrantStore;

  constructor(@inject(STATE_STORE) state: StateStore, epoch: RevocationEpoch) {
    this.#grants = new GrantStore(state, epoch);
  }

  routes(): AdminRoute[] {
    const grants = this.#grants;
    const filterOf = (query: URLSearchParams) => ({ clientId: query.get('client') ?? undefined, userId: query.get('user') ?? undefined });
    return [
      {
        method: 'GET', path: '/api/oauth2/grants',
        async handler({ query }) {
          return { body: await grants.listGrants(filterOf(query)) };
        },
      },
      {
        method: 'DELETE', path: '/api/oauth2/grants/:grant',
        async handler({ params }) {
          const grant = (await grants.listGrants()).find((g) => g.grant === params.grant);
          if (!grant) throw new NotFoundError(`No live grant "${params.grant}"`);
          await grants.revokeGrant(grant);
          return { status: 204 };
        },
      },
      {
        // Every grant of a client (?client=) and/or of a user (?user=): one of them is required.
        method: 'POST', path: '/api/oauth2/grants/revoke',
        async handler({ query }) {
          const filter = filterOf(query);
          if (filter.clientId === undefined && filter.userId === undefined) throw new BadRequestError('Name a client (?client=) or a user (?user=)');
          const live = await grants.listGrants(filter);
          for (const grant of live) await grants.revokeGrant(grant);
          return { body: { revoked: live.length } };
        },
      },
    ];
  }
}
