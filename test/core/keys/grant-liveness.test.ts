import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  grantLiveness,
  RevocationList,
  MAX_GRANT_LIFETIME_SECONDS,
  type ClientDirectory,
  type IndexedClient,
  type OAuthClient,
} from '../../../core/plugin-api.js';
import { OAuth2ConfigSchema } from '../../../plugins/oauth2/schema.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';

describe('Core: grantLiveness', () => {
  let gw: TestGateway;
  let revocations: RevocationList;
  const directory = new Map<string, IndexedClient>();
  const clients: ClientDirectory = {
    get: (id) => directory.get(id),
    authenticate: () => null,
    onClientChange: () => () => {},
  };
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  const client = (key: Partial<OAuthClient> & { clientId: string }, validUntil = Infinity) =>
    directory.set(key.clientId, { key: { clientName: key.clientId, ...key }, validUntil });

  before(async () => {
    gw = await startGateway();
    revocations = gw.gateway.container.resolve(RevocationList);
    client({ clientId: 'live' });
    client({ clientId: 'disabled', enabled: false });
    client({ clientId: 'lapsed' }, nowMs - 1);
    client({ clientId: 'recreated', createdAt: new Date(nowMs - 10_000).toISOString() });
    client({ clientId: 'cut' });
    await revocations.revokeClientTokens('cut', nowMs - 60_000);
    await revocations.revoke('revoked-jti', 'live', now + 600);
  });
  after(() => gw.close());

  const verdict = (grant: Parameters<typeof grantLiveness>[0]) => {
    const answer = grantLiveness(grant, { clients, revocations }, nowMs);
    return answer.alive ? 'alive' : answer.reason;
  };

  it('answers alive, with the client, for a grant of a live client', () => {
    const answer = grantLiveness({ clientId: 'live', iat: now, exp: now + 60 }, { clients, revocations }, nowMs);
    assert.equal(answer.alive && answer.client.key.clientId, 'live');
  });

  it('names the reason of each dead grant', () => {
    assert.deepEqual(
      {
        unknown: verdict({ clientId: 'nobody', iat: now }),
        notAString: verdict({ clientId: 42, iat: now }),
        disabled: verdict({ clientId: 'disabled', iat: now }),
        lapsed: verdict({ clientId: 'lapsed', iat: now }),
        revokedGrant: verdict({ clientId: 'live', iat: now, revoked: true }),
        revokedJti: verdict({ clientId: 'live', iat: now, jti: 'revoked-jti' }),
        beforeCutoff: verdict({ clientId: 'cut', iat: now - 120 }),
        noIatAfterCutoff: verdict({ clientId: 'cut', iat: undefined }),
        afterCutoff: verdict({ clientId: 'cut', iat: now }),
        earlierClient: verdict({ clientId: 'recreated', iat: now - 60 }),
        expired: verdict({ clientId: 'live', iat: now - 60, exp: now }),
      },
      {
        unknown: 'unknown_client',
        notAString: 'unknown_client',
        disabled: 'client_inactive',
        lapsed: 'client_inactive',
        revokedGrant: 'revoked',
        revokedJti: 'revoked',
        beforeCutoff: 'cut_off',
        noIatAfterCutoff: 'cut_off',
        afterCutoff: 'alive',
        earlierClient: 'earlier_client',
        expired: 'expired',
      },
    );
  });

  it('keeps a cut-off for as long as a refresh token issued before it may live (a year, not the 24 h of an access token)', () => {
    assert.ok(
      OAuth2ConfigSchema.properties.refreshTokenTtlSeconds.maximum! <= MAX_GRANT_LIFETIME_SECONDS,
      'no refresh token outlives a cut-off',
    );
    revocations.prune(now + 2 * 86_400);
    assert.equal(verdict({ clientId: 'cut', iat: now - 120 }), 'cut_off');
    revocations.prune(now + MAX_GRANT_LIFETIME_SECONDS + 86_400);
    assert.equal(verdict({ clientId: 'cut', iat: now - 120 }), 'alive');
  });
});
