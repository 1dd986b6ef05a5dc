/** Config schema of the `cors` plugin. */
import { Type, type Static } from '@sinclair/typebox';
import { ADVANCED } from '../../core/plugin-api.js';

export const CorsConfigSchema = Type.Object(
  {
    allowOrigins: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
      title: 'Allow origins',
      maxItems: 1000,
      default: ['*'],
      description:
        'Allowed origins: exact (`https://app.example.com`), a subdomain wildcard (`https://*.example.com`) or `*` for any.',
    }),
    allowMethods: Type.Array(Type.String({ pattern: '^[A-Z]+$', maxLength: 32 }), {
      title: 'Allow methods',
      maxItems: 32,
      default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      description: 'Methods allowed in cross-origin requests.',
    }),
    allowHeaders: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      title: 'Allow headers',
      maxItems: 100,
      default: [],
      description: 'Request headers allowed; empty allows those the preflight asks for.',
    }),
    exposeHeaders: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      title: 'Expose headers',
      maxItems: 100,
      default: [],
      description: 'Response headers the browser may read.',
      ...ADVANCED,
    }),
    allowCredentials: Type.Boolean({
      title: 'Allow credentials',
      default: false,
      description: 'Allow cookies and HTTP authentication (the origin is then echoed, never `*`).',
    }),
    maxAgeSeconds: Type.Integer({
      title: 'Max age (seconds)',
      minimum: 0,
      maximum: 86_400,
      default: 600,
      description: 'How long browsers may cache a preflight answer.',
      ...ADVANCED,
    }),
  },
  { additionalProperties: false },
);

export type CorsConfig = Static<typeof CorsConfigSchema>;
