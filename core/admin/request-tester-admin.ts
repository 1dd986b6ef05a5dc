/**
 * `POST /api/routes/:id/test`: the request tester's admin endpoint (admin credentials only, no API
 * token scope). The back office reaches it through the WebSocket `action` op (`test`). It lives on
 * the admin listener alone: the proxy listener routes nothing to the admin API.
 */
import { Type, type Static } from '@sinclair/typebox';
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import { LOGGER } from '../tokens.js';
import { CompiledConfig } from '../compiler/snapshot.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { compileValidator } from '../config/schema.js';
import { traceRequest } from '../http/request-tester.js';
import type { AdminExtension, AdminRoute } from './extensions.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_MAP = Type.Record(Type.String(), Type.String({ maxLength: 8192, pattern: '^[^\\r\\n]*$' }), {
  maxProperties: 100,
  description: 'Header name (an RFC 9110 token) → value.',
});

export const TestRequestSchema = Type.Object(
  {
    method: Type.String({
      pattern: "^[A-Z!#$%&'*+.^_`|~0-9-]{1,32}$",
      default: 'GET',
      description: 'HTTP method (upper case).',
    }),
    path: Type.String({
      minLength: 1,
      maxLength: 8192,
      pattern: '^/',
      description: "The path a client sends to the gateway, the route's domain prefix included; may carry a query.",
    }),
    query: Type.Optional(
      Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 8192 }), {
        description: "Query parameters added to the path's.",
      }),
    ),
    headers: Type.Optional(HEADER_MAP),
    body: Type.Optional(Type.String({ maxLength: 512 * 1024, description: 'Request body (text).' })),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: "Host header; defaults to the host of the route's first domain.",
      }),
    ),
    send: Type.Boolean({
      default: false,
      description: "Really send the request to the route's upstream and return its answer; false: a dry run.",
    }),
  },
  { additionalProperties: false, description: 'A request composed for the tester.' },
);

const StepSchema = Type.Object({
  phase: Type.String(),
  plugin: Type.String(),
  decision: Type.Union([
    Type.Literal('allowed'),
    Type.Literal('denied'),
    Type.Literal('answered'),
    Type.Literal('failed'),
  ]),
  status: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  durationUs: Type.Integer(),
});
const TraceSchema = Type.Object(
  {
    route: Type.String(),
    routedTo: Type.Union([Type.String(), Type.Null()]),
    steps: Type.Array(StepSchema),
    outcome: Type.Object({}, { additionalProperties: true }),
    upstreamRequest: Type.Unknown(),
    upstream: Type.Unknown(),
    answer: Type.Unknown(),
    durationUs: Type.Integer(),
  },
  {
    description:
      'What each step decided, the request as the upstream gets it (credentials masked) and its answer when sent.',
  },
);

const validator = compileValidator(TestRequestSchema);
export type TestRequestInput = Static<typeof TestRequestSchema>;

@injectable()
export class RequestTesterAdmin implements AdminExtension {
  readonly #compiled: CompiledConfig;
  readonly #log: Logger;

  constructor(compiled: CompiledConfig, @inject(LOGGER) log: Logger) {
    this.#compiled = compiled;
    this.#log = log;
  }

  routes(): AdminRoute[] {
    return [
      {
        method: 'POST',
        path: '/api/routes/:id/test',
        handler: async (r) => {
          const snapshot = this.#compiled.snapshot;
          const input = validator.parse(await r.body(), 'test request');
          const badName = Object.keys(input.headers ?? {}).find((name) => !HEADER_NAME.test(name));
          if (badName !== undefined)
            throw new ValidationError('Invalid test request', [
              { path: `/headers/${badName.slice(0, 64)}`, message: 'A header name is an RFC 9110 token' },
            ]);
          const route = snapshot.routes.routes.find((candidate) => candidate.id === r.params.id);
          if (!route) throw new NotFoundError(`No enabled route ${r.params.id}`);
          return { body: await traceRequest(snapshot, route, input, this.#log) };
        },
        doc: {
          summary: 'Test a request against a route',
          description:
            "Runs the composed request through the route's compiled pipeline (global sinks and instances included) and answers its trace. Nothing is sent upstream unless `send` is true. Runtime state is used as by a real request (quotas count, codes are consumed).",
          body: TestRequestSchema,
          responses: { 200: TraceSchema },
        },
      },
    ];
  }
}
