/**
 * What the back office (or another admin UI) is built from, given by the gateway once the admin API
 * exists: `GatewayOptions.adminUi` is a factory of these parts, so the UI package never reaches
 * into the gateway's container.
 */
import type { Logger } from 'pino';
import type { AdminApi } from './admin-api.js';
import type { AdminAuthenticator } from './admin-auth.js';
import type { AdminUi } from './extensions.js';
import type { Store } from '../config/store.js';
import type { StateStore } from '../state/state-store.js';
import type { TrafficStats } from '../http/traffic.js';
import type { BootConfig } from '../config/boot-config.js';

export interface AdminUiParts {
  readonly api: AdminApi;
  readonly auth: AdminAuthenticator;
  readonly store: Store;
  readonly state: StateStore;
  readonly traffic: TrafficStats;
  /** The gateway's logger (the UI takes a child of its own). */
  readonly log: Logger;
  readonly admin: Readonly<BootConfig['admin']>;
}

export type AdminUiFactory = (parts: AdminUiParts) => AdminUi;
