/**
 * The OpenAPI 3.1 document of the admin API, built from the admin route table: each route's method
 * and path, and the TypeBox schemas it declares (`AdminRoute.doc`), which are the schemas its
 * handler validates with. TypeBox schemas are JSON Schema, which OpenAPI 3.1 takes as they are.
 * A route that declares nothing is still listed (method, path, path parameters), marked
 * `x-portcullis-schemas: false`.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { AdminRoute } from './extensions.js';

/** Every error body of the admin API (`GatewayError.toJSON`). */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.String({
      description: 'A stable code (`invalid_request`, `not_found`, `conflict`…; see docs/errors.md).',
    }),
    error_description: Type.String({ description: 'What went wrong, for a human.' }),
    details: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description: 'Each problem of a refused body, at its JSON pointer.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ERROR_RESPONSE = {
  description: 'An error: `{error, error_description}`.',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

export interface OpenApiInfo {
  title: string;
  version: string;
}

type Json = Record<string, unknown>;

/** The document for these routes, in their order. */
export function openApiDocument(routes: readonly AdminRoute[], info: OpenApiInfo): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'The Portcullis admin API: configuration (routes, plugins, entities of plugins), import and export. Every endpoint needs the admin credentials (HTTP Basic). Generated from the schemas the endpoints validate with.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/' }],
    security: [{ adminBasic: [] }],
    paths,
    components: {
      schemas: { Error: plain(ErrorBodySchema) },
      securitySchemes: {
        adminBasic: { type: 'http', scheme: 'basic', description: 'The admin user name and password.' },
      },
    },
  };
}

function operation(route: AdminRoute): Json {
  const doc = route.doc;
  const pathParams = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
    name: m[1]!,
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1 },
  }));
  const queryParams = doc?.query
    ? Object.entries(doc.query.properties).map(([name, schema]) => ({
        name,
        in: 'query',
        required: (doc.query!.required ?? []).includes(name),
        schema: plain(schema),
        ...((schema as { description?: string }).description
          ? { description: (schema as { description: string }).description }
          : {}),
      }))
    : [];
  const responses: Json = {};
  if (doc) {
    for (const [status, schema] of Object.entries(doc.responses)) {
      responses[status] =
        schema === null
          ? { description: 'No content.' }
          : {
              description: (schema as { description?: string }).description ?? 'Success.',
              content: { 'application/json': { schema: plain(schema) } },
            };
    }
  } else {
    responses['2XX'] = { description: 'Success (the body of this endpoint is not described yet).' };
  }
  responses['4XX'] = ERROR_RESPONSE;
  responses['5XX'] = ERROR_RESPONSE;
  const tag = route.path.split('/')[2] ?? 'api';
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc?.summary ?? `${route.method} ${route.path}`,
    ...(doc?.description ? { description: doc.description } : {}),
    tags: [tag],
    ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(doc?.body
      ? { requestBody: { required: !doc.optionalBody, content: { 'application/json': { schema: plain(doc.body) } } } }
      : {}),
    responses,
    ...(doc ? {} : { 'x-portcullis-schemas': false }),
  };
}

/** A TypeBox schema as the JSON it is (its symbols dropped). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}
