/**
 * What the token endpoint computes once instead of per request (issue 24) still follows what it is
 * computed from: the issuer and its origin are derived again when the setting they come from changes
 * (the default public URL is only known once the proxy listens), and the token answer written as
 * JSON text is the text `JSON.stringify` wrote from the answer object.
 */
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BootConfig } from '../../../core/config/boot-config.js';
import type { RequestContext } from '../../../core/plugin-runtime/context.js';
import type { ClientCredentialsConfig } from '../../../plugins/client-credentials/schema.js';
import { issuers, tokenAnswer } from '../../../plugins/client-credentials/service.js';

const ctx = {} as RequestContext;

describe('Plugin: client-credentials (values computed once, refreshed when their source changes)', () => {
  it('derives the issuer and its origin again when the proxy address or public URL changes', () => {
    const boot = { proxy: { host: '127.0.0.1', port: 0, publicUrl: undefined } } as unknown as BootConfig;
    const config = { issuerFromHost: false } as ClientCredentialsConfig;
    const { issuerOf, originOf } = issuers(config, boot);
    assert.equal(issuerOf(ctx), 'http://127.0.0.1:0');
    boot.proxy.port = 8080; // the listener's port, known once it listens
    assert.equal(originOf(ctx), 'http://127.0.0.1:8080');
    assert.equal(issuerOf(ctx), 'http://127.0.0.1:8080');
    (boot.proxy as { publicUrl?: string }).publicUrl = 'https://auth.example/tenant/';
    assert.equal(issuerOf(ctx), 'https://auth.example/tenant');
    assert.equal(originOf(ctx), 'https://auth.example');
  });

  it('prefers the configured issuer over the proxy address', () => {
    const boot = { proxy: { host: '127.0.0.1', port: 8080, publicUrl: undefined } } as unknown as BootConfig;
    const config = { issuerFromHost: false, issuer: 'https://issuer.example/' } as ClientCredentialsConfig;
    const { issuerOf, originOf } = issuers(config, boot);
    assert.equal(originOf(ctx), 'https://issuer.example');
    assert.equal(issuerOf(ctx), 'https://issuer.example');
  });

  it('writes the token answer as JSON.stringify wrote the answer object', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln-_';
    for (const scope of ['', 'read', 'read write', 'a"b\\c', 'é ☃ \u2028'])
      assert.equal(
        tokenAnswer(token, 3600, scope),
        JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600, ...(scope ? { scope } : {}) }),
      );
  });
});
