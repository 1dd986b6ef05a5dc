/**
 * The process's copy of introspection responses, in front of the state store: a warm token costs
 * no storage access per request, the copy is dropped by any revocation the gateway makes (the
 * revocation epoch) on the next request, and it never holds what the state store refused to keep
 * (`maxEntries`). Expiry with the stored entry and revocation across two instances are pinned by
 * `access.test.ts` ("asks again once the cache TTL has passed") and `portcullis.test.ts`.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StateNamespace, StateStore } from '../../../core/plugin-api.js';
import { RevocationEpoch } from '../../../core/keys/index.js';
import { STATE_STORE } from '../../../core/tokens.js';
import { NAMESPACE } from '../../../plugins/oauth2-introspection/response-cache.js';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { startOpaqueProvider, GATEWAY_CLIENT, KYMA_RULES, type OpaqueProvider } from './fixtures.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Plugin: oauth2-introspection (responses cached in the process)', () => {
  let provider: OpaqueProvider;
  let upstream: Upstream;
  let gw: TestGateway;
  let routes = 0;

  async function protectedRoute(cache: Record<string, unknown> = {}): Promise<string> {
    const id = `local-${++routes}`;
    await createRoute(
      gw,
      route(id, upstream.url, {
        frontend: { domains: [`${id}.test`] },
        plugins: [
          {
            plugin: 'oauth2-introspection',
            config: {
              introspectionUrl: provider.introspectionUrl,
              clientId: GATEWAY_CLIENT.id,
              clientSecret: GATEWAY_CLIENT.secret,
              rules: KYMA_RULES,
              cache,
            },
          },
        ],
      }),
    );
    return `${id}.test`;
  }

  /** Count the reads of the cache's namespace from now on (the gateway runs in this process). */
  function countReads(): { readonly count: number } {
    const ns: StateNamespace = gw.gateway.container.resolve<StateStore>(STATE_STORE).namespace(NAMESPACE);
    const counter = { count: 0 };
    const get = ns.get.bind(ns);
    ns.get = ((key: string) => {
      counter.count++;
      return get(key);
    }) as StateNamespace['get'];
    return counter;
  }

  before(async () => {
    provider = await startOpaqueProvider();
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await provider.close();
  });

  // First: the write counter is the namespace's, shared with the other tests' routes.
  it('keeps no copy of what the state store refused past maxEntries: such a token is introspected every time', async () => {
    // The write counter counts per period of the cache TTL, aligned to the clock: with an hour's TTL,
    // and the test started away from a period's end, the three writes fall in one period (with the
    // default minute, a loaded run straddled a period's end and the third write was counted afresh).
    const host = await protectedRoute({ maxEntries: 2, ttlSeconds: 3600 });
    const untilPeriodEnd = 3_600_000 - (Date.now() % 3_600_000);
    if (untilPeriodEnd < 30_000) await new Promise((resolve) => setTimeout(resolve, untilPeriodEnd + 100));
    const tokens = [await provider.token('read'), await provider.token('read'), await provider.token('read')];
    const before = provider.introspections;
    for (const token of tokens)
      for (let i = 0; i < 2; i++) assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    assert.equal(provider.introspections - before, 4, 'two cached tokens once each, the third on both requests');
  });

  it('serves a warm token from the process: no state-store read per request', async () => {
    const host = await protectedRoute();
    const token = await provider.token('read');
    assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    const reads = countReads();
    for (let i = 0; i < 3; i++) assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    assert.equal(reads.count, 0);
  });

  it('drops the copy on the next request after the gateway revokes anything (the epoch moves)', async () => {
    const host = await protectedRoute();
    const token = await provider.token('read');
    assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    const before = provider.introspections;
    await gw.gateway.container.resolve(RevocationEpoch).advance();
    assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    assert.equal(provider.introspections - before, 1, 'introspected again after the revocation');
  });
});
