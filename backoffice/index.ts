/** The back office as a gateway module: registers the admin UI served on the admin listener. */
import { instanceCachingFactory } from 'tsyringe';
import type { PluginModule } from '../core/gateway.js';
import { ADMIN_UI, BOOT_CONFIG, LOGGER, STATE_STORE, STORE } from '../core/tokens.js';
import { AdminApi } from '../core/admin/admin-api.js';
import { AdminAuthenticator } from '../core/admin/admin-auth.js';
import { TrafficStats } from '../core/http/traffic.js';
import { BackOffice } from './server/back-office.js';

export const backOfficeModule: PluginModule = {
  register(container) {
    container.register(ADMIN_UI, {
      useFactory: instanceCachingFactory((c) => {
        const config = c.resolve(BOOT_CONFIG);
        return new BackOffice({
          api: c.resolve(AdminApi),
          auth: c.resolve(AdminAuthenticator),
          store: c.resolve(STORE),
          state: c.resolve(STATE_STORE),
          traffic: c.resolve(TrafficStats),
          log: c.resolve(LOGGER).child({ component: 'backoffice' }),
          username: config.admin.username,
          sessionIdleSeconds: config.admin.sessionIdleSeconds,
          webSocketMaxBufferedBytes: config.admin.webSocketMaxBufferedBytes,
        });
      }),
    });
  },
};
