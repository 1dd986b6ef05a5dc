/**
 * Assembles a gateway: a child DI container per instance (so tests can run several in one
 * process), the store, the plugins, the compiled state, the proxy and admin listeners, and an
 * orderly shutdown.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import { ADMIN_UI, BOOT_CONFIG, LOGGER, STORE } from './tokens.js';
import { ConfigError, type BootConfig } from './config/boot-config.js';
import { EntityRegistry, GLOBAL_CONFIG, GLOBAL_CONFIG_ID, ROUTES, type GlobalConfig, type Route } from './config/entities.js';
import { LowdbStore } from './config/lowdb-store.js';
import type { Store } from './config/store.js';
import { EntityService } from './config/entity-service.js';
import { PluginCatalog } from './plugin-runtime/plugin-catalog.js';
import { State } from './config/compiled-state.js';
import { ProxyHandler } from './http/proxy.js';
import { AdminApi } from './admin/admin-api.js';
import { AdminAuthenticator, generatePassword, hashPassword } from './admin/admin-auth.js';
import { sendError } from './http/http-utils.js';
import { registerKeys, initKeys, stopKeys } from './keys/index.js';
import { TrafficStats } from './http/traffic.js';
import { NotFoundError } from './errors.js';
import type { PluginModule } from './plugin-runtime/plugin.js';

export type { PluginModule } from './plugin-runtime/plugin.js';


/** Serves requests on the admin listener that are not for the API (the back office). */
export interface AdminUi {
  handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean;
  attach?(server: Server): void;
  /** Drop live connections (WebSockets) so the listener can close. */
  close?(): void;
}

export interface GatewayOptions {
  config: BootConfig;
  logger: Logger;
  plugins: readonly PluginModule[];
  /** Password for the admin user when none is stored yet; generated when absent. */
  initialAdminPassword?: string;
  /** The configuration store; the embedded file store when absent (a worker passes its replica). */
  store?: Store;
  /**
   * Which listeners this process serves: `all` (one process), `admin` (the primary of a cluster:
   * admin API and back office, first-start bootstrap) or `proxy` (a cluster worker).
   */
  role?: GatewayRole;
}

export type GatewayRole = 'all' | 'admin' | 'proxy';

export interface ListenInfo {
  /** Null where this process does not serve that listener (see `GatewayOptions.role`). */
  proxyUrl: string | null;
  adminUrl: string | null;
  proxyTlsUrl: string | null;
}

export const SETTING_ADMIN_PASSWORD_HASH = 'adminPasswordHash';

export class Gateway {
  readonly container: DependencyContainer;
  readonly config: BootConfig;
  readonly store: Store;
  readonly state: State;
  readonly entities: EntityService;
  readonly proxyServer: Server;
  /** The HTTPS listener of the proxy, when `proxy.tls` is configured. */
  readonly proxyTlsServer: HttpsServer | null;
  readonly adminServer: Server;
  /** Whether a back office is served on the admin listener. */
  readonly hasBackOffice: boolean;
  /** Set on the first start when the password was generated: show it once. */
  generatedAdminPassword: string | null = null;
  readonly #log: Logger;
  readonly #plugins: readonly PluginModule[];
  #closing: Promise<void> | null = null;
  readonly #ui: AdminUi | null;
  readonly role: GatewayRole;

  private constructor(options: GatewayOptions, container: DependencyContainer) {
    this.container = container;
    this.config = options.config;
    this.#log = options.logger;
    this.#plugins = options.plugins;
    this.role = options.role ?? 'all';
    this.store = container.resolve<Store>(STORE);
    this.state = container.resolve(State);
    this.entities = container.resolve(EntityService);
    const proxy = container.resolve(ProxyHandler);
    const serverOptions = { requestTimeout: options.config.proxy.requestTimeoutMs, keepAliveTimeout: 65_000 };
    this.proxyServer = servingProxy(createServer(serverOptions, proxy.handleRequest), proxy);
    const tls = options.config.proxy.tls;
    this.proxyTlsServer = tls ? servingProxy(createHttpsServer({ ...serverOptions, cert: readPem(tls.certFile), key: readPem(tls.keyFile) }, proxy.handleRequest), proxy) : null;
    const admin = container.resolve(AdminApi);
    const ui = container.isRegistered(ADMIN_UI, true) ? container.resolve<AdminUi>(ADMIN_UI) : null;
    this.hasBackOffice = ui !== null;
    this.#ui = ui;
    this.adminServer = createServer({ requestTimeout: 60_000 }, (req, res) => {
      if (admin.handle(req, res)) return;
      if (ui?.handle(req, res)) return;
      sendError(res, new NotFoundError(`Nothing at ${req.method} ${(req.url ?? '/').split('?')[0]}`));
    });
    ui?.attach?.(this.adminServer);
  }

  static async create(options: GatewayOptions): Promise<Gateway> {
    const container = rootContainer.createChildContainer();
    const registry = new EntityRegistry();
    container.registerInstance(LOGGER, options.logger);
    container.registerInstance(BOOT_CONFIG, options.config);
    container.registerInstance(EntityRegistry, registry);
    registerKeys(container);
    for (const plugin of options.plugins) plugin.register(container);
    const store: Store = options.store ?? new LowdbStore(options.config.store.file, registry);
    container.registerInstance(STORE, store);
    container.registerSingleton(EntityService);
    container.registerSingleton(PluginCatalog);
    container.registerSingleton(State);
    container.registerSingleton(TrafficStats);
    container.registerSingleton(ProxyHandler);
    container.registerSingleton(AdminApi);
    await store.open();

    const catalog = container.resolve(PluginCatalog);
    const entities = container.resolve(EntityService);
    entities.addHooks(ROUTES.name, { check: (route) => catalog.check((route as Route).plugins ?? [], '/plugins', false) });
    entities.addHooks(GLOBAL_CONFIG.name, { check: (global) => catalog.check((global as GlobalConfig).plugins ?? [], '/plugins', true) });

    const auth = new AdminAuthenticator(options.config.admin.username, () => store.getSetting<string>(SETTING_ADMIN_PASSWORD_HASH));
    container.registerInstance(AdminAuthenticator, auth);
    container.resolve(AdminApi).setAuthenticator(auth);
    container.resolve(AdminApi).setReadiness(() => (store.reachable === false ? [`the configuration store (${store.location}) is unreachable`] : []));

    const gateway = new Gateway(options, container);
    if (gateway.role !== 'proxy') await gateway.#bootstrap(options.initialAdminPassword);
    await initKeys(container);
    for (const plugin of options.plugins) await plugin.init?.(container);
    gateway.state.start();
    return gateway;
  }

  /** First-start work: the global configuration and the admin password. */
  async #bootstrap(initialPassword: string | undefined): Promise<void> {
    // Both first-start writes join one durable write (group commit).
    const writes: Promise<unknown>[] = [];
    if (!this.store.getSetting<string>(SETTING_ADMIN_PASSWORD_HASH)) {
      const password = initialPassword ?? generatePassword();
      writes.push(this.store.putSetting(SETTING_ADMIN_PASSWORD_HASH, await hashPassword(password)));
      if (initialPassword === undefined) this.generatedAdminPassword = password;
    }
    if (!this.store.get(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID)) {
      writes.push(this.entities.update(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID, { plugins: [] }));
    }
    await Promise.all(writes);
  }

  async listen(): Promise<ListenInfo> {
    const proxy = this.role !== 'admin';
    const admin = this.role !== 'proxy';
    if (proxy) await listenOn(this.proxyServer, this.config.proxy.port, this.config.proxy.host);
    if (proxy && this.proxyTlsServer) await listenOn(this.proxyTlsServer, this.config.proxy.tls!.port, this.config.proxy.host);
    if (admin) await listenOn(this.adminServer, this.config.admin.port, this.config.admin.host);
    return {
      proxyUrl: proxy ? urlOf(this.proxyServer) : null,
      adminUrl: admin ? urlOf(this.adminServer) : null,
      proxyTlsUrl: proxy && this.proxyTlsServer ? urlOf(this.proxyTlsServer, 'https') : null,
    };
  }

  get proxyUrl(): string { return urlOf(this.proxyServer); }
  get adminUrl(): string { return urlOf(this.adminServer); }

  /** Stop accepting, let in-flight requests finish (at most `graceMs`), flush the store. */
  close(graceMs = this.config.shutdownGraceMs): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    this.state.stop();
    this.#ui?.close?.();
    const servers = [this.proxyServer, this.proxyTlsServer, this.adminServer].filter((s): s is Server => s !== null && s.listening);
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const server of servers) server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.#log.warn({ graceMs }, 'in-flight requests did not finish in time; closing their connections');
      for (const server of servers) server.closeAllConnections();
      await closed;
    }
    for (const plugin of this.#plugins) await plugin.close?.(this.container);
    stopKeys(this.container);
    this.container.resolve(TrafficStats).stop();
    await this.state.pools.close();
    await this.store.close();
  }
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlOf(server: Server, scheme = 'http'): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/** Attach the proxy's upgrade and parse-error handling to a listener (HTTP or HTTPS). */
function servingProxy<S extends Server>(server: S, proxy: ProxyHandler): S {
  server.on('upgrade', proxy.handleUpgrade);
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 63\r\n\r\n{"error":"invalid_request","error_description":"Bad request"}  ');
    else socket.destroy();
  });
  return server;
}

function readPem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`Cannot read ${file} (proxy.tls): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
