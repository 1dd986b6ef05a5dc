/** The plugins shipped with Portcullis, in catalog order. */
import type { PluginModule } from '../core/plugin-api.js';
import { headersPlugin } from './headers/index.js';
import { corsPlugin } from './cors/index.js';
import { apikeysPlugin } from './apikeys/index.js';
import { clientCredentialsPlugin } from './client-credentials/index.js';
import { jwtVerifierPlugin } from './jwt-verifier/index.js';
import { oauth2Plugin } from './oauth2/index.js';
import { ipRestrictionPlugin } from './ip-restriction/index.js';
import { oauth2IntrospectionPlugin } from './oauth2-introspection/index.js';
import { upstreamJwtPlugin } from './upstream-jwt/index.js';
import { accessRequestsModule } from './access-requests/index.js';

export const BUILTIN_PLUGINS: readonly PluginModule[] = [
  headersPlugin,
  corsPlugin,
  apikeysPlugin,
  clientCredentialsPlugin,
  jwtVerifierPlugin,
  oauth2Plugin,
  oauth2IntrospectionPlugin,
  ipRestrictionPlugin,
  upstreamJwtPlugin,
  accessRequestsModule,
];
