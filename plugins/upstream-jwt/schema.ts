/** Config schema of the `upstream-jwt` plugin. */
import { Type, type Static } from '@sinclair/typebox';
export const DEFAULT_UPSTREAM_JWT_HEADER = 'X-Portcullis-JWT';
/** The plugin's own default key pair, ES256, created on the first start (see index.ts). */
export const DEFAULT_UPSTREAM_JWT_KEYPAIR_ID = 'portcullis-upstream-jwt';

export const UpstreamJwtConfigSchema = Type.Object(
  {
    keyPair: Type.String({
      title: 'Key pair',
      minLength: 1,
      maxLength: 200,
      default: DEFAULT_UPSTREAM_JWT_KEYPAIR_ID,
      description:
        "The key pair that signs the tokens (must exist; it cannot be deleted while used); its `kid` is in each token's header and its public key in the gateway JWKS. Default: `portcullis-upstream-jwt`, an ES256 pair the gateway creates on its first start (ES256 and EdDSA sign about twice as fast as RS256).",
    }),
    header: Type.String({
      title: 'Header',
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
      maxLength: 200,
      default: DEFAULT_UPSTREAM_JWT_HEADER,
      description:
        'The request header carrying the token to the upstream; any copy the client sent is replaced. `X-Portcullis-JWT` by default so the client\'s own `Authorization` reaches the upstream untouched; set `Authorization` with `scheme: "Bearer"` for upstreams that read a bearer token.',
    }),
    scheme: Type.String({
      title: 'Scheme',
      pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]*$",
      maxLength: 50,
      default: '',
      description: 'A word put before the token in the header (`Bearer`); empty: the bare token.',
    }),
    issuer: Type.Optional(
      Type.String({
        title: 'Issuer',
        minLength: 1,
        maxLength: 2000,
        description:
          "The `iss` claim; default: the gateway's public URL (`proxy.publicUrl`, else the listener's address), as the client credentials service uses.",
      }),
    ),
    audience: Type.Optional(
      Type.String({
        title: 'Audience',
        minLength: 1,
        maxLength: 2000,
        description: 'The `aud` claim; default: the id of the route the request matched.',
      }),
    ),
    lifetimeSeconds: Type.Integer({
      title: 'Lifetime (seconds)',
      minimum: 1,
      maximum: 3600,
      default: 60,
      description: "Seconds from `iat` to `exp`: one request's worth, so a token the upstream leaks is soon useless.",
    }),
    bindRequest: Type.Boolean({
      title: 'Bind request',
      default: true,
      description:
        "Add `htm` (the method) and `htu` (the path and query sent upstream, relative to the target URL's base path) so a token cannot be replayed on another request.",
    }),
  },
  { additionalProperties: false },
);

export type UpstreamJwtConfig = Static<typeof UpstreamJwtConfigSchema>;
