/**
 * Start a real gateway in-process for tests: temporary data file, ports 0, logs captured in
 * memory (so tests can assert on them), and an admin client with the right credentials.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Gateway, type PluginModule } from '../../core/gateway.js';
import { loadBootConfig, type BootConfig } from '../../core/config/boot-config.js';
import { BUILTIN_PLUGINS } from '../../plugins/index.js';
import { LOG_SERIALIZERS } from '../../bin/logger.js';
import { backOffice } from '../../backoffice/index.js';
import { basic, send, sendJson, type TestResponse } from './http.js';

export const ADMIN_PASSWORD = 'test-admin-password-0123456789';

export interface TestGateway {
  gateway: Gateway;
  proxyUrl: string;
  adminUrl: string;
  dataDir: string;
  dataFile: string;
  logs: any[];
  admin(method: string, path: string, body?: unknown): Promise<TestResponse>;
  /** Request through the proxy with a Host header. */
  proxy(
    path: string,
    options?: { host?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer },
  ): Promise<TestResponse>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  config?: Partial<{ [K in keyof BootConfig]: Partial<BootConfig[K]> }>;
  plugins?: readonly PluginModule[];
  logLevel?: string;
  /** Serve the back office on the admin listener. */
  backOffice?: boolean;
}

export async function startGateway(options: StartOptions = {}): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  const dataFile = join(dataDir, 'portcullis.json');
  const config = loadBootConfig({ env: {} });
  config.proxy.port = 0;
  config.admin.port = 0;
  config.store.file = dataFile;
  config.shutdownGraceMs = 2_000;
  // an optional section (authorizer) absent from the defaults is created
  for (const [section, values] of Object.entries(options.config ?? {}))
    Object.assign(((config as any)[section] ??= {}), values);
  const logs: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: options.logLevel ?? 'info', serializers: LOG_SERIALIZERS }, sink);
  const gateway = await Gateway.create({
    config,
    logger,
    plugins: options.plugins ?? BUILTIN_PLUGINS,
    ...(options.backOffice ? { adminUi: backOffice } : {}),
    initialAdminPassword: ADMIN_PASSWORD,
  });
  await gateway.listen();
  const { proxyUrl, adminUrl } = gateway;
  const auth = basic('admin', ADMIN_PASSWORD);
  return {
    gateway,
    proxyUrl,
    adminUrl,
    dataDir,
    dataFile,
    logs,
    admin: (method, path, body) =>
      body === undefined
        ? send(adminUrl + path, { method, headers: { authorization: auth } })
        : sendJson(adminUrl + path, method, body, { authorization: auth }),
    proxy: (path, o = {}) =>
      send(proxyUrl + path, { method: o.method, headers: { host: o.host ?? 'api.test', ...o.headers }, body: o.body }),
    async close(closeOptions = {}) {
      await gateway.close(500, 0);
      if (!closeOptions.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A minimal valid route to one upstream. */
export function route(
  id: string,
  upstreamUrl: string | string[],
  overrides: Record<string, any> = {},
): Record<string, any> {
  const urls = Array.isArray(upstreamUrl) ? upstreamUrl : [upstreamUrl];
  return {
    id,
    name: id,
    frontend: { domains: ['api.test'], ...overrides.frontend },
    backend: { targets: urls.map((url) => ({ url })), ...overrides.backend },
    plugins: overrides.plugins ?? [],
    ...(overrides.tags ? { tags: overrides.tags } : {}),
  };
}

/** Create a route through the admin API and assert it was accepted. */
export async function createRoute(gw: TestGateway, body: Record<string, any>): Promise<any> {
  const res = await gw.admin('POST', '/api/routes', body);
  if (res.status !== 201) throw new Error(`route creation failed: ${res.status} ${res.text}`);
  return res.json();
}
