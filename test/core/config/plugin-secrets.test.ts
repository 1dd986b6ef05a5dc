/**
 * Write-only secrets of plugin configs, the core side: the digest form, the constant-time matcher
 * (both stored forms), and the write path on the global configuration (the oauth2 provision key
 * there is generated, revealed once, hidden on reads, kept by writes that omit it).
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { secretDigest, secretMatcher, writeOnlyFields } from '../../../core/plugin-runtime/plugin-secrets.js';
import { OAuth2ConfigSchema } from '../../../plugins/oauth2/index.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';

const PLAINTEXT = 'a-plaintext-secret-of-at-least-32-characters';

describe('Core: write-only plugin secrets', () => {
  it('stores a plaintext as sha256:<base64url> and leaves a digest as it is', () => {
    const digest = secretDigest(PLAINTEXT);
    assert.equal(digest, `sha256:${createHash('sha256').update(PLAINTEXT).digest('base64url')}`);
    assert.equal(secretDigest(digest), digest);
  });

  it('matches the secret against either stored form, and nothing when none is stored', () => {
    for (const stored of [PLAINTEXT, secretDigest(PLAINTEXT)]) {
      const matches = secretMatcher(stored);
      assert.equal(matches(PLAINTEXT), true);
      assert.equal(matches(`${PLAINTEXT}x`), false);
      assert.equal(matches(secretDigest(PLAINTEXT)), false, 'the digest is not the secret');
    }
    assert.equal(secretMatcher(undefined)(''), false);
  });

  it('finds the fields a schema marks writeOnly', () => {
    assert.deepEqual(writeOnlyFields(OAuth2ConfigSchema), ['provisionKey']);
  });
});

describe('Core: write-only plugin secrets in the global configuration', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
  });

  it('generates the secret on the write that adds the plugin, shows it there only, and keeps it', async () => {
    const instance = { plugin: 'oauth2', config: { requireHttps: false } };
    const written = await gw.admin('PUT', '/api/global-config', { plugins: [instance] });
    assert.equal(written.status, 200, written.text);
    const key = written.json().plugins[0].config.provisionKey;
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    const shown = await gw.admin('GET', '/api/global-config');
    assert.equal(shown.json().plugins[0].config.provisionKey, undefined);
    const again = await gw.admin('PUT', '/api/global-config', shown.json());
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json().plugins[0].config.provisionKey, undefined, 'kept, so nothing new to show');
    const exported = (await gw.admin('GET', '/api/export')).json();
    assert.equal(exported['global-config'].plugins[0].config.provisionKey, secretDigest(key));
  });
});
