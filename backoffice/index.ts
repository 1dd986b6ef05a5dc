/** The back office as an admin UI of the gateway (`GatewayOptions.adminUi`), built from the parts the gateway gives. */
import type { AdminUiFactory } from './server/door.js';
import { BackOffice } from './server/back-office.js';

export const backOffice: AdminUiFactory = (parts) =>
  new BackOffice({
    api: parts.api,
    auth: parts.auth,
    store: parts.store,
    state: parts.state,
    traffic: parts.traffic,
    log: parts.log.child({ component: 'backoffice' }),
    username: parts.admin.username,
    sessionIdleSeconds: parts.admin.sessionIdleSeconds,
    webSocketMaxBufferedBytes: parts.admin.webSocketMaxBufferedBytes,
  });
