/**
 * `POST /api/plugins/summaries`: what the route designer's boxes say. Each plugin's own
 * `describe(config)` words its configuration (defaults applied); an instance whose configuration
 * would be refused on save gets its problems, paths relative to the instance, and no summary.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';

describe('Admin API: plugin summaries for the route designer', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
  });

  const summaries = async (body: unknown) => {
    const res = await gw.admin('POST', '/api/plugins/summaries', body);
    assert.equal(res.status, 200, res.text);
    return res.json() as { plugin: string; summary: string | null; problems: { path: string; message: string }[] }[];
  };

  it('says in one line what each instance does with its configuration, defaults applied', async () => {
    const [keys, headers, cors, ips] = await summaries({
      plugins: [
        { plugin: 'apikeys' },
        {
          plugin: 'headers',
          config: { request: { set: { 'X-Tested-By': 'portcullis' } }, response: { remove: ['Server'] } },
        },
        { plugin: 'cors', config: { allowOrigins: ['https://app.example.com'], maxAgeSeconds: 3600 } },
        { plugin: 'ip-restriction', config: { allow: ['10.0.0.0/8'], deny: ['10.0.0.1'] } },
      ],
    });
    assert.equal(
      keys!.summary,
      'API key by Basic, Portcullis-Client-Id/-Secret headers or bearer JWT; authorized for this route',
    );
    assert.equal(headers!.summary, 'Sets X-Tested-By on the request; removes Server on the response');
    assert.equal(
      cors!.summary,
      'CORS for https://app.example.com; GET, HEAD, POST, PUT and 2 more; preflight cached 1 h',
    );
    assert.equal(ips!.summary, 'Allows only 10.0.0.0/8, except 10.0.0.1; others 403');
    // the client credentials walkthrough's route: bearer tokens only
    const [bearerOnly] = await summaries({
      plugins: [
        {
          plugin: 'apikeys',
          config: {
            extractors: { basic: { enabled: false }, customHeaders: { enabled: false } },
            validate: false,
            mandatory: false,
          },
        },
      ],
    });
    assert.equal(bearerOnly!.summary, 'API key by bearer JWT; any valid key; anonymous requests pass');
  });

  it('gives problems instead of a summary for what a save would refuse: a bad config, a sink on a route, an unknown plugin', async () => {
    const [bad, sink, unknown, fine] = await summaries({
      plugins: [
        { plugin: 'cors', config: { maxAgeSeconds: -1 } },
        { plugin: 'client-credentials' },
        { plugin: 'nope' },
        { plugin: 'headers' },
      ],
    });
    assert.equal(bad!.summary, null);
    assert.deepEqual(
      bad!.problems.map((p) => p.path),
      ['/config/maxAgeSeconds'],
    );
    assert.equal(sink!.summary, null);
    assert.match(sink!.problems[0]!.message, /only be enabled in the global configuration/);
    assert.equal(unknown!.summary, null);
    assert.equal(unknown!.problems[0]!.path, '/plugin');
    assert.equal(fine!.summary, 'Changes no header yet');
    const [global] = await summaries({
      plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
      global: true,
    });
    assert.equal(global!.summary, 'Token endpoints at /.well-known/otoroshi/oauth on any host; tokens for 1 h');
  });

  it('refuses a malformed request with 400, stores nothing', async () => {
    const res = await gw.admin('POST', '/api/plugins/summaries', { plugins: [{ config: {} }] });
    assert.equal(res.status, 400);
    assert.equal((await gw.admin('GET', '/api/global-config')).json().plugins.length, 0);
  });
});
