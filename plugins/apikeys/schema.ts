/** Config schema of the `apikeys` plugin. */
import { Type, type Static } from '@sinclair/typebox';
import { ADVANCED } from '../../core/plugin-api.js';

const HeaderName = (fallback: string, description: string) =>
  Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 200, default: fallback, description });

export const ApiKeysConfigSchema = Type.Object(
  {
    extractors: Type.Object(
      {
        basic: Type.Object(
          {
            enabled: Type.Boolean({
              title: 'Enabled',
              default: true,
              description: 'Read `Authorization: Basic base64(clientId:clientSecret)`.',
            }),
          },
          { title: 'Basic', additionalProperties: false, default: {} },
        ),
        customHeaders: Type.Object(
          {
            enabled: Type.Boolean({
              title: 'Enabled',
              default: true,
              description: 'Read the client id and secret from two headers.',
            }),
            clientIdHeader: {
              title: 'Client ID header',
              ...HeaderName('Portcullis-Client-Id', 'Header carrying the client id.'),
            },
            clientSecretHeader: {
              title: 'Client secret header',
              ...HeaderName('Portcullis-Client-Secret', 'Header carrying the client secret.'),
            },
          },
          { title: 'Custom headers', additionalProperties: false, default: {} },
        ),
        clientId: Type.Object(
          {
            enabled: Type.Boolean({
              title: 'Enabled',
              default: false,
              description: 'Accept the client id alone, for keys with `allowClientIdOnly`.',
            }),
            header: { title: 'Header', ...HeaderName('Portcullis-Client-Id', 'Header carrying the client id.') },
          },
          { title: 'Client ID', additionalProperties: false, default: {} },
        ),
        jwt: Type.Object(
          {
            enabled: Type.Boolean({
              title: 'Enabled',
              default: true,
              description: 'Read `Authorization: Bearer <token>` with a token from the client credentials service.',
            }),
            issuer: Type.Optional(
              Type.String({
                title: 'Issuer',
                minLength: 1,
                maxLength: 2000,
                description: 'Required `iss` of the token; any issuer of the gateway when absent.',
              }),
            ),
          },
          { title: 'JWT', additionalProperties: false, default: {} },
        ),
      },
      { title: 'Extractors', additionalProperties: false, default: {} },
    ),
    validate: Type.Boolean({
      title: 'Validate',
      default: true,
      description: 'Check that the key is authorized for the route (its `authorizedEntities`).',
    }),
    mandatory: Type.Boolean({
      title: 'Mandatory',
      default: true,
      description:
        'Refuse requests without credentials; when false they pass as anonymous (a wrong credential is still refused).',
    }),
    hideCredentials: Type.Boolean({
      title: 'Hide credentials',
      default: false,
      description: 'Remove the credential before the request goes upstream.',
    }),
    onStateError: Type.Union([Type.Literal('deny'), Type.Literal('allow'), Type.Literal('local')], {
      title: 'On state error',
      default: 'deny',
      ...ADVANCED,
      description:
        'When the runtime state store (Redis) cannot be reached, quota decisions: `deny` (503 `state_unavailable`), `allow` (not counted), or `local` (counted by each instance alone).',
    }),
    consumerHeaders: Type.Object(
      {
        enabled: Type.Boolean({ title: 'Enabled', default: true, description: 'Tell the upstream who called.' }),
        clientId: { title: 'Client ID', ...HeaderName('X-Consumer-Client-Id', 'Header with the client id.') },
        name: { title: 'Name', ...HeaderName('X-Consumer-Name', 'Header with the client name.') },
        scopes: {
          title: 'Scopes',
          ...HeaderName('X-Consumer-Scopes', "Header with the key's scopes, space separated."),
        },
      },
      { title: 'Consumer headers', additionalProperties: false, default: {}, ...ADVANCED },
    ),
  },
  { additionalProperties: false },
);

export type ApiKeysConfig = Static<typeof ApiKeysConfigSchema>;
