/**
 * DI tokens: one per service the container provides by interface rather than by class. The core's
 * own: plugins reach these services through their `PluginHost`, never by token.
 */
import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type { Store } from './config/store.js';
import type { Plugin } from './plugin-runtime/plugin.js';
import type { BootConfig } from './config/boot-config.js';
import type { AdminExtension, AdminUi } from './admin/extensions.js';
import type { StateStore } from './state/state-store.js';
import type { Metrics } from './metrics/metrics.js';

export const LOGGER: InjectionToken<Logger> = Symbol('Logger');
export const STORE: InjectionToken<Store> = Symbol('Store');
/** Runtime state (revocations, quotas, sessions, login limits): embedded LMDB or Redis. */
export const STATE_STORE: InjectionToken<StateStore> = Symbol('StateStore');
export const BOOT_CONFIG: InjectionToken<BootConfig> = Symbol('BootConfig');
/** Multi-registration: every plugin, added by the modules through their hosts (`host.plugins.add`). */
export const PLUGINS: InjectionToken<Plugin> = Symbol('Plugins');
/** Multi-registration: admin API extensions (the core's, and plugins' `host.admin.routes`). */
export const ADMIN_EXTENSIONS: InjectionToken<AdminExtension> = Symbol('AdminExtensions');
/** What plugins report to the gateway's Prometheus metrics (token counts, their own counters). */
export const METRICS: InjectionToken<Metrics> = Symbol('Metrics');
/** The back office served on the admin listener (optional). */
export const ADMIN_UI: InjectionToken<AdminUi> = Symbol('AdminUi');
