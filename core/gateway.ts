/**
 * Assembles a gateway: a child DI container per instance (so tests can run several in one
 * process), the store, the plugins, the compiled state, the proxy and admin listeners, and an
 * orderly shutdown.
 */
import 'reflect-metadata';
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import { ADMIN_EXTENSIONS, ADMIN_UI, BOOT_CONFIG, LOGGER, METRICS, STATE_STORE, STORE } from './tokens.js';
import { ConfigError, drainDelayOf, type BootConfig } from './config/boot-config.js';
import { EntityRegistry, GLOBAL_CONFIG, GLOBAL_CONFIG_ID, ROUTES } from './config/entities.js';
import { keepStoredKeys, routeTlsProblems, withoutInlineKeys } from './config/upstream-tls.js';
import { createStores, type Stores } from './config/stores.js';
import type { Store } from './config/store.js';
import { EntityService, EntityServiceHooks } from './config/entity-service.js';
import { PluginCatalog } from './plugin-runtime/plugin-catalog.js';
import { pluginSecretHooks } from './plugin-runtime/plugin-secrets.js';
import { CompiledConfig } from './compiler/snapshot.js';
import { globalConfigProblems, routeProblems } from './compiler/compile-route.js';
import { ProxyHandler } from './http/proxy.js';
import { AuthorizerHandler } from './http/authorizer.js';
import { AdminApi, AdminApiSources } from './admin/admin-api.js';
import { RequestTesterAdmin } from './admin/request-tester-admin.js';
import { RouteHistoryAdmin } from './admin/route-history-admin.js';
import { API_TOKEN_KIND, ApiTokensAdmin } from './admin/api-tokens.js';
import type { AdminUi } from './admin/extensions.js';
import { AdminAuthenticator, generatePassword, hashPassword, verifyPassword } from './admin/admin-auth.js';
import { hasDuplicateHost, sendError, sendErrorOnSocket } from './http/http-utils.js';
import { limitConnections } from './http/connection-limit.js';
import { ListenerShutdown } from './http/listener-shutdown.js';
import { registerKeys, initKeys, stopKeys, KeyService, keyPairIndex } from './keys/index.js';
import { TrafficStats } from './http/traffic.js';
import {
  BadRequestError,
  ConflictError,
  GatewayError,
  HeadersTooLargeError,
  NotFoundError,
  RequestTimeoutError,
} from './errors.js';
import type { PluginHost, PluginModule, ServiceToken } from './plugin-api/host.js';
import { ServiceRegistry, apiVersionProblem, createPluginHost } from './plugin-host.js';
import type { AdminUiFactory, AdminUiParts } from './admin/admin-ui.js';
import type { ClusterPeers } from './admin/cluster-peers.js';
import { ProxyMetrics } from './metrics/proxy-metrics.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { countStateErrors } from './metrics/state-errors.js';
import { exposition } from './metrics/exposition.js';

export type { PluginModule } from './plugin-api/host.js';

export interface GatewayOptions {
  config: BootConfig;
  logger: Logger;
  plugins: readonly PluginModule[];
  /** Password for the admin user when none is stored yet; generated when absent, and then stored by `listen` only (a start that fails before stores none). */
  initialAdminPassword?: string;
  /** The configuration store; the embedded file store when absent (a worker passes its replica). */
  store?: Store;
  /**
   * Which listeners this process serves: `all` (one process), `admin` (the primary of a cluster:
   * admin API and back office, first-start bootstrap) or `proxy` (a cluster worker).
   */
  role?: GatewayRole;
  /** The back office served on the admin listener, built once the admin API exists. */
  adminUi?: AdminUiFactory;
  /** On a cluster primary: its workers, whose metrics and traffic history the admin API adds to its own. */
  peers?: ClusterPeers;
}

export type GatewayRole = 'all' | 'admin' | 'proxy';

export interface ListenInfo {
  /** Null where this process does not serve that listener (see `GatewayOptions.role`). */
  proxyUrl: string | null;
  adminUrl: string | null;
  proxyTlsUrl: string | null;
  /** The authorizer listener (`authorizer` in the boot configuration), served where the proxy is. */
  authorizerUrl: string | null;
}

export const SETTING_ADMIN_PASSWORD_HASH = 'adminPasswordHash';

export class Gateway {
  readonly container: DependencyContainer;
  readonly config: BootConfig;
  readonly store: Store;
  /** The compiled configuration the listeners serve (the compile step). */
  readonly compiled: CompiledConfig;
  readonly entities: EntityService;
  readonly proxyServer: Server;
  /** The HTTPS listener of the proxy, when `proxy.tls` is configured. */
  readonly proxyTlsServer: HttpsServer | null;
  readonly adminServer: Server;
  /** The external-authorizer listener, when `authorizer` is configured. */
  readonly authorizerServer: Server | null;
  /** Whether a back office is served on the admin listener. */
  readonly hasBackOffice: boolean;
  /** Set by `listen` on the first start when the password was generated and stored: show it once. */
  generatedAdminPassword: string | null = null;
  /** A first start's generated password, not stored until the listeners are up. */
  #pendingAdminPassword: string | null = null;
  readonly #log: Logger;
  readonly #plugins: readonly PluginModule[];
  readonly #hosts: readonly PluginHost[];
  readonly #services: ServiceRegistry;
  #closing: Promise<void> | null = null;
  readonly #ui: AdminUi | null;
  #stores: Stores | null = null;
  readonly role: GatewayRole;
  /** Every listener, for the orderly close (closed together, after the drain delay). */
  readonly #listeners: ListenerShutdown[];

  private constructor(
    options: GatewayOptions,
    container: DependencyContainer,
    hosts: readonly PluginHost[],
    services: ServiceRegistry,
  ) {
    this.container = container;
    this.#hosts = hosts;
    this.#services = services;
    this.config = options.config;
    this.#log = options.logger;
    this.#plugins = options.plugins;
    this.role = options.role ?? 'all';
    this.store = container.resolve<Store>(STORE);
    this.compiled = container.resolve(CompiledConfig);
    this.entities = container.resolve(EntityService);
    const proxy = container.resolve(ProxyHandler);
    const limits = options.config.proxy;
    const serverOptions = {
      ...slowClientTimeouts(limits.headersTimeoutMs, limits.requestTimeoutMs),
      keepAliveTimeout: 65_000,
    };
    this.proxyServer = servingProxy(createServer(serverOptions, proxy.handleRequest), proxy);
    limitConnections(this.proxyServer, limits.maxConnections);
    const tls = options.config.proxy.tls;
    this.proxyTlsServer = tls
      ? servingProxy(
          createHttpsServer(
            { ...serverOptions, cert: readPem(tls.certFile), key: readPem(tls.keyFile) },
            proxy.handleRequest,
          ),
          proxy,
        )
      : null;
    if (this.proxyTlsServer) limitConnections(this.proxyTlsServer, limits.maxConnections, 'secureConnection');
    const authorizer = options.config.authorizer;
    // Separate from the proxy listener, so no route can shadow it and it can stay on an internal address.
    this.authorizerServer = authorizer
      ? createServer(serverOptions, container.resolve(AuthorizerHandler).handleRequest)
      : null;
    if (this.authorizerServer) {
      this.authorizerServer.on('clientError', answerClientError);
      limitConnections(this.authorizerServer, limits.maxConnections);
    }
    const admin = container.resolve(AdminApi);
    const ui = container.isRegistered(ADMIN_UI, true) ? container.resolve<AdminUi>(ADMIN_UI) : null;
    this.hasBackOffice = ui !== null;
    this.#ui = ui;
    this.adminServer = createServer(
      slowClientTimeouts(ADMIN_HEADERS_TIMEOUT_MS, ADMIN_REQUEST_TIMEOUT_MS),
      (req, res) => {
        if (hasDuplicateHost(req)) {
          res.shouldKeepAlive = false;
          return sendError(res, new BadRequestError('A request carries one Host header'));
        }
        if (admin.handle(req, res)) return;
        if (ui?.handle(req, res)) return;
        sendError(res, new NotFoundError(`Nothing at ${req.method} ${(req.url ?? '/').split('?')[0]}`));
      },
    );
    this.adminServer.on('clientError', answerClientError);
    ui?.attach?.(this.adminServer);
    this.#listeners = [
      new ListenerShutdown(this.proxyServer),
      ...(this.proxyTlsServer ? [new ListenerShutdown(this.proxyTlsServer, true)] : []),
      ...(this.authorizerServer ? [new ListenerShutdown(this.authorizerServer)] : []),
      new ListenerShutdown(this.adminServer),
    ];
  }

  static async create(options: GatewayOptions): Promise<Gateway> {
    for (const module of options.plugins) {
      const problem = apiVersionProblem(module);
      if (problem) throw new ConfigError(problem);
    }
    const container = rootContainer.createChildContainer();
    const registry = new EntityRegistry();
    container.registerInstance(LOGGER, options.logger);
    container.registerInstance(BOOT_CONFIG, options.config);
    container.registerInstance(EntityRegistry, registry);
    // Built, not opened (that comes once everything is registered; a Redis connects lazily).
    const stores = createStores(options.config, registry, options.logger, options.store);
    const metrics = registerCore(container, options, stores);
    const services = new ServiceRegistry();
    const hosts = options.plugins.map((module) => createPluginHost(module, container, services));
    options.plugins.forEach((module, i) => module.register(hosts[i]!));
    try {
      await stores.open();
    } catch (error) {
      // A Redis that never answered keeps reconnecting: release it, or the process never exits.
      await stores.close().catch(() => {});
      throw error;
    }
    const catalog = container.resolve(PluginCatalog);
    const compiled = compileStep(container, options, stores.config, catalog, metrics);
    addWriteChecks(container.resolve(EntityService), catalog, stores.config, compiled);
    registerAdminSources(container, options, stores, metrics);
    const gateway = new Gateway(options, container, hosts, services);
    gateway.#stores = stores;
    if (gateway.role !== 'proxy') await gateway.#bootstrap(options.initialAdminPassword);
    await initKeys(container);
    for (const [i, module] of options.plugins.entries()) await module.init?.(hosts[i]!);
    gateway.compiled.start();
    return gateway;
  }

  /**
   * First-start work: the global configuration and the admin password. A generated password is
   * only chosen here: it is stored once the listeners are up (`listen`), so a start that fails
   * before it can be shown (a port in use) leaves no hash behind that no one ever saw.
   */
  async #bootstrap(initialPassword: string | undefined): Promise<void> {
    // Both first-start writes join one durable write (group commit).
    // Instances sharing a store (Redis) may all start at once: each write is a check-and-set, and
    // the instances that lose the race keep what the winner wrote (and print no password of theirs).
    const writes: Promise<unknown>[] = [];
    const stored = this.store.getSetting<string>(SETTING_ADMIN_PASSWORD_HASH);
    if (!stored && initialPassword === undefined) this.#pendingAdminPassword = generatePassword();
    else if (!stored)
      writes.push(
        hashPassword(initialPassword!).then((hash) => this.store.putSettingIfAbsent(SETTING_ADMIN_PASSWORD_HASH, hash)),
      );
    else if (initialPassword !== undefined && !(await verifyPassword(initialPassword, stored))) {
      this.#log.warn(
        'PORTCULLIS_ADMIN_PASSWORD is ignored: the store already holds another admin password (set a new one with `portcullis admin-password` on the stopped gateway)',
      );
    }
    if (!this.store.get(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID)) {
      writes.push(
        this.entities.update(GLOBAL_CONFIG.name, GLOBAL_CONFIG_ID, { plugins: [] }).catch((error: unknown) => {
          // A conflict on a first write (expected version 0) means another instance created it.
          if (!(error instanceof ConflictError)) throw error;
        }),
      );
    }
    await Promise.all(writes);
  }

  /** Store the password generated on the first start (once the listeners are up); shown by the caller. */
  async #storeGeneratedPassword(): Promise<void> {
    const password = this.#pendingAdminPassword;
    if (password === null) return;
    this.#pendingAdminPassword = null;
    if (await this.store.putSettingIfAbsent(SETTING_ADMIN_PASSWORD_HASH, await hashPassword(password)))
      this.generatedAdminPassword = password;
  }

  async listen(): Promise<ListenInfo> {
    const proxy = this.role !== 'admin';
    const admin = this.role !== 'proxy';
    if (proxy) await listenOn(this.proxyServer, this.config.proxy.port, this.config.proxy.host);
    if (proxy && this.proxyTlsServer)
      await listenOn(this.proxyTlsServer, this.config.proxy.tls!.port, this.config.proxy.host);
    if (proxy && this.authorizerServer)
      await listenOn(this.authorizerServer, this.config.authorizer!.port, this.config.authorizer!.host);
    if (admin) await listenOn(this.adminServer, this.config.admin.port, this.config.admin.host);
    await this.#storeGeneratedPassword();
    const info = {
      proxyUrl: proxy ? urlOf(this.proxyServer) : null,
      adminUrl: admin ? urlOf(this.adminServer) : null,
      proxyTlsUrl: proxy && this.proxyTlsServer ? urlOf(this.proxyTlsServer, 'https') : null,
      authorizerUrl: proxy && this.authorizerServer ? urlOf(this.authorizerServer) : null,
    };
    // Without a configured public URL, the listener's address names the gateway (token issuer).
    const listener = info.proxyTlsUrl ?? info.proxyUrl;
    if (listener) this.config.proxy.publicUrl ??= listener.replace(/\/\/(0\.0\.0\.0|\[::\]):/, '//localhost:');
    return info;
  }

  /** A service a plugin module provides (`host.provide`), for operators and tests. */
  service<T>(token: ServiceToken<T>): T {
    return this.#services.use('The gateway', token);
  }

  get proxyUrl(): string {
    return urlOf(this.proxyServer);
  }
  get adminUrl(): string {
    return urlOf(this.adminServer);
  }
  get authorizerUrl(): string | null {
    return this.authorizerServer?.listening ? urlOf(this.authorizerServer) : null;
  }

  /**
   * The orderly stop: the proxy's health path answers 503 while every listener keeps serving for
   * `drainDelayMs` (a load balancer marks this instance down meanwhile); then the listeners close:
   * idle connections at once, busy ones after their response (`Connection: close`); the stop goes
   * on as soon as the last connection has closed, at most `graceMs` later (open WebSockets are
   * closed then); finally plugins and stores close.
   */
  close(graceMs = this.config.shutdownGraceMs, drainDelayMs = drainDelayOf(this.config)): Promise<void> {
    this.#closing ??= this.#close(graceMs, drainDelayMs);
    return this.#closing;
  }

  async #close(graceMs: number, drainDelayMs: number): Promise<void> {
    await this.#drain(drainDelayMs);
    this.compiled.stop();
    await this.#closeListeners(graceMs);
    for (const [i, module] of this.#plugins.entries()) await module.close?.(this.#hosts[i]!);
    stopKeys(this.container);
    this.container.resolve(TrafficStats).stop();
    await this.compiled.pools.close();
    await this.#stores?.close();
  }

  /** Load balancers asking the proxy's health path learn first, and stop sending, while it still serves. */
  async #drain(drainDelayMs: number): Promise<void> {
    if (this.role === 'admin') return;
    this.container.resolve(ProxyHandler).draining = true;
    const serving = this.proxyServer.listening || this.proxyTlsServer?.listening === true;
    if (!serving || drainDelayMs <= 0) return;
    this.#log.info({ drainDelayMs }, 'draining: the health path answers 503 while the listeners keep serving');
    await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
  }

  /** Close every listener; after `graceMs`, drop the connections still open. */
  async #closeListeners(graceMs: number): Promise<void> {
    // Back-office WebSockets are told the server is going away (1001), so the page can say so.
    this.#ui?.close?.();
    const listening = this.#listeners.filter((listener) => listener.server.listening);
    const closed = Promise.all(listening.map((listener) => listener.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const open = listening.reduce((sum, listener) => sum + listener.connections, 0);
      this.#log.warn(
        { graceMs, connections: open },
        'in-flight requests did not finish in time; closing their connections',
      );
      for (const listener of listening) listener.destroyAll();
      await closed;
    }
  }
}

/** The core's own services, before the modules register: the stores (built, not open), metrics, keys, admin endpoints. */
function registerCore(container: DependencyContainer, options: GatewayOptions, stores: Stores): GatewayMetrics {
  const metrics = new GatewayMetrics(
    new ProxyMetrics(options.config),
    () => stores.state.ready,
    // The plugins' token counters are labelled by plugin id: the catalog is built after the modules register.
    () => container.resolve(PluginCatalog).ids(),
  );
  container.registerInstance(GatewayMetrics, metrics);
  container.registerInstance(METRICS, metrics);
  container.registerInstance(ProxyMetrics, metrics.proxy);
  container.registerInstance(STORE, stores.config);
  container.registerInstance(
    STATE_STORE,
    countStateErrors(stores.state, (operation) => metrics.stateError(operation)),
  );
  registerKeys(container);
  container.resolve(EntityRegistry).register(API_TOKEN_KIND);
  container.register(ADMIN_EXTENSIONS, { useClass: ApiTokensAdmin });
  container.register(ADMIN_EXTENSIONS, { useClass: RequestTesterAdmin });
  const peers = options.peers;
  const history = new RouteHistoryAdmin(metrics.proxy, peers ? (query) => peers.histories(query) : undefined);
  container.registerInstance(RouteHistoryAdmin, history);
  container.register(ADMIN_EXTENSIONS, { useValue: history });
  container.registerInstance(
    EntityServiceHooks,
    new EntityServiceHooks(
      (operation, seconds, ok) => metrics.storeWrite(operation, seconds, ok),
      (instances, prefix) => container.resolve(PluginCatalog).references(instances, prefix),
    ),
  );
  container.registerSingleton(EntityService);
  container.registerSingleton(PluginCatalog);
  container.registerSingleton(TrafficStats);
  container.registerSingleton(ProxyHandler);
  container.registerSingleton(AuthorizerHandler);
  container.registerSingleton(AdminApi);
  return metrics;
}

/** The compile step, with the indexes of the core (key pairs) and the plugins. */
function compileStep(
  container: DependencyContainer,
  options: GatewayOptions,
  store: Store,
  catalog: PluginCatalog,
  metrics: GatewayMetrics,
): CompiledConfig {
  const compiled = new CompiledConfig({
    store,
    catalog,
    registry: container.resolve(EntityRegistry),
    log: options.logger,
    metrics: metrics.proxy,
    coreIndexes: [keyPairIndex(container.resolve(KeyService))],
  });
  container.registerInstance(CompiledConfig, compiled);
  return compiled;
}

/** What a write of a route or the global configuration must pass, besides its schema. */
function addWriteChecks(entities: EntityService, catalog: PluginCatalog, store: Store, compiled: CompiledConfig): void {
  // A write is accepted only when it compiles, checked with the indexes requests now see.
  entities.addHooks(ROUTES, { check: (route) => routeProblems(route, catalog, store, compiled.snapshot.indexes) });
  entities.addHooks(GLOBAL_CONFIG, {
    check: (global) => globalConfigProblems(global, catalog, store, compiled.snapshot.indexes),
  });
  // Write-only secrets of plugin configs (provision keys): generated, kept, stored as digests, never shown.
  entities.addHooks(ROUTES, pluginSecretHooks(catalog));
  // Upstream TLS: PEM and files checked, inline private keys kept on updates and never shown.
  entities.addHooks(ROUTES, {
    check: (route, ctx) => routeTlsProblems(keepStoredKeys(route, ctx.previous)),
    prepare: (route, ctx) => keepStoredKeys(route, ctx.previous),
    present: (route) => withoutInlineKeys(route),
    export: (route, options) => (options.includePrivateKeys ? route : withoutInlineKeys(route)),
  });
  entities.addHooks(GLOBAL_CONFIG, pluginSecretHooks(catalog));
}

/** The admin API's authenticator, readiness and `/metrics` (with a cluster's workers added on a primary). */
function registerAdminSources(
  container: DependencyContainer,
  options: GatewayOptions,
  stores: Stores,
  metrics: GatewayMetrics,
): void {
  const store = stores.config;
  const auth = new AdminAuthenticator(options.config.admin.username, () =>
    store.getSetting<string>(SETTING_ADMIN_PASSWORD_HASH),
  );
  container.registerInstance(AdminAuthenticator, auth);
  const readiness = () => [
    ...(store.reachable === false ? [`the configuration store (${store.location}) is unreachable`] : []),
    ...(stores.state.ready ? [] : [`the runtime state store (${stores.state.location}) is unreachable`]),
  ];
  const peers = options.peers;
  const exposed = async () => exposition([await metrics.collect(), ...(peers ? await peers.metrics() : [])]);
  container.registerInstance(AdminApiSources, new AdminApiSources(auth, readiness, exposed));
  const ui = options.adminUi;
  if (ui) container.register(ADMIN_UI, { useFactory: instanceCachingFactory((c) => ui(adminUiParts(c))) });
}

/** What the back office is built from: the admin API it serves over its WebSocket, and the stores it reads. */
function adminUiParts(container: DependencyContainer): AdminUiParts {
  const config = container.resolve<BootConfig>(BOOT_CONFIG);
  return {
    api: container.resolve(AdminApi),
    auth: container.resolve(AdminAuthenticator),
    store: container.resolve<Store>(STORE),
    state: container.resolve(STATE_STORE),
    traffic: container.resolve(TrafficStats),
    log: container.resolve<Logger>(LOGGER),
    admin: config.admin,
  };
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
  server.on('clientError', answerClientError);
  return server;
}

const ADMIN_HEADERS_TIMEOUT_MS = 20_000;
const ADMIN_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Node's request timeouts for a listener. Node checks them only every `connectionsCheckingInterval`
 * (30 s by default, longer than a short timeout), so the check runs at a quarter of the shortest.
 */
function slowClientTimeouts(headersTimeout: number, requestTimeout: number): ServerOptions {
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(
      25,
      Math.min(30_000, Math.floor(Math.min(headersTimeout, requestTimeout) / 4)),
    ),
  };
}

/**
 * A request Node could not parse (400) or that was not received in time (408: slow headers, slow
 * body). The answer is written on the raw socket, which is then closed; when a response has begun
 * already, the connection is only dropped.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const responseStarted =
    (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
  if (!socket.writable || responseStarted || error.code === 'ECONNRESET') return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  sendErrorOnSocket(socket, clientErrorOf(error));
}

function clientErrorOf(error: NodeJS.ErrnoException): GatewayError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeoutError();
  if (error.code === 'HPE_HEADER_OVERFLOW') return new HeadersTooLargeError();
  return new BadRequestError('Bad request');
}

function readPem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `Cannot read ${file} (proxy.tls): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
