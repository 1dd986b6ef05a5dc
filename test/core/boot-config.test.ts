import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_DRAIN_DELAY_MS, drainDelayOf, loadBootConfig } from '../../core/config/boot-config.js';

describe('Boot configuration: file and PORTCULLIS_* overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('an override applies inside a section the file leaves out', () => {
    const config = loadBootConfig({ file: file('empty.json', '{}'), env: { PORTCULLIS_PROXY_PORT: '9081' } });
    assert.equal(config.proxy.port, 9081);
  });

  it('an override under a section the file sets to a non-object is a ConfigError naming that section, not a crash', () => {
    const path = file('scalar-section.json', JSON.stringify({ proxy: '8080' }));
    assert.throws(
      () => loadBootConfig({ file: path, env: { PORTCULLIS_PROXY_PORT: '9081' } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
        assert.match(error.message, /proxy/);
        return true;
      },
    );
  });

  it('the drain delay: PORTCULLIS_DRAIN_DELAY_MS when set (0 included), else 5 s with a health path and 0 without', () => {
    assert.equal(drainDelayOf(loadBootConfig({ env: {} })), 0);
    assert.equal(
      drainDelayOf(loadBootConfig({ env: { PORTCULLIS_PROXY_HEALTH_PATH: '/healthz' } })),
      DEFAULT_DRAIN_DELAY_MS,
    );
    assert.equal(DEFAULT_DRAIN_DELAY_MS, 5_000);
    assert.equal(
      drainDelayOf(
        loadBootConfig({ env: { PORTCULLIS_PROXY_HEALTH_PATH: '/healthz', PORTCULLIS_DRAIN_DELAY_MS: '0' } }),
      ),
      0,
    );
    assert.equal(drainDelayOf(loadBootConfig({ env: { PORTCULLIS_DRAIN_DELAY_MS: '2500' } })), 2_500);
    assert.throws(
      () => loadBootConfig({ env: { PORTCULLIS_DRAIN_DELAY_MS: '-1' } }),
      /drainDelayMs \(from PORTCULLIS_DRAIN_DELAY_MS\)/,
    );
  });
});
