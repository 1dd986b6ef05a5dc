/** Config schema of the `client-credentials` plugin. */
import { Type, type Static } from '@sinclair/typebox';
import {
  ClientAssertionSettingsSchema,
  HTTPS_ONLY,
  MAX_GATEWAY_TOKEN_LIFETIME_SECONDS,
} from '../../core/plugin-api.js';

export const ClientCredentialsConfigSchema = Type.Object(
  {
    domain: Type.String({
      title: 'Domain',
      minLength: 1,
      maxLength: 1000,
      default: '*',
      description:
        'Regular expression on the Host (without port, anchored) where the endpoints answer; `*` for any host.',
    }),
    expiration: Type.Integer({
      title: 'Expiration',
      minimum: 1000,
      maximum: MAX_GATEWAY_TOKEN_LIFETIME_SECONDS * 1000,
      default: 3_600_000,
      description: 'Access token lifetime in milliseconds.',
    }),
    defaultKeyPair: Type.String({
      title: 'Default key pair',
      minLength: 1,
      maxLength: 200,
      default: 'portcullis-jwt-signing',
      description: 'Key pair that signs tokens of API keys without `jwt-sign-keypair` metadata.',
    }),
    secure: Type.Boolean({
      title: 'Secure',
      default: true,
      ...HTTPS_ONLY,
      description:
        'Answer the token, introspection and revocation endpoints only over HTTPS (X-Forwarded-Proto honoured from trusted proxies).',
    }),
    issuer: Type.Optional(
      Type.String({
        title: 'Issuer',
        maxLength: 2000,
        pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
        description:
          "The `iss` of issued tokens and the metadata's issuer (required on introspection when set); default: the proxy's public URL (`proxy.publicUrl`).",
      }),
    ),
    issuerFromHost: Type.Boolean({
      title: 'Issuer from host',
      default: false,
      description:
        'Derive the issuer from the request: `<scheme>://<Host>`, for hosts matching `domain` only (which must then not be `*`); the metadata then varies by Host.',
    }),
    audience: Type.Optional(
      Type.String({
        title: 'Audience',
        minLength: 1,
        maxLength: 2000,
        description: 'The `aud` of issued tokens; default: the issuer.',
      }),
    ),
    basePath: Type.String({
      title: 'Base path',
      maxLength: 1000,
      pattern: '^/[^?#\\s]*[^/?#\\s]$',
      default: '/.well-known/otoroshi/oauth',
      description: 'Where the endpoints live (`/jwks.json`, `/token`, `/token/introspect`, `/token/revoke`).',
    }),
    jwksMaxAgeSeconds: Type.Integer({
      title: 'JWKS max age (seconds)',
      minimum: 0,
      maximum: 86_400,
      default: 300,
      description: 'Cache-Control max-age of the JWKS document.',
    }),
    clientAssertion: { title: 'Client assertion', ...ClientAssertionSettingsSchema },
  },
  { additionalProperties: false },
);

export type ClientCredentialsConfig = Static<typeof ClientCredentialsConfigSchema>;
