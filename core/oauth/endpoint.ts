/**
 * An OAuth endpoint as oidc-provider writes its actions: an ordered list of named steps over one
 * exchange (the request, its parameters, its client), shared steps first (method, transport,
 * parameters, client authentication), the endpoint's own last. Each step is a small function that
 * can be read and tested alone; the list is built once, when the plugin is instantiated.
 */
import type { RequestContext } from '../plugin-runtime/context.js';
import type { IndexedClient } from '../keys/clients.js';

/** One request at an endpoint, as the steps fill it in. */
export interface Exchange {
  readonly ctx: RequestContext;
  /** The parameters the endpoint knows (empty until `read-params`). */
  params: Map<string, string>;
  /** The client (set by `authenticate-client`). */
  client: IndexedClient | undefined;
}

export interface Step {
  readonly name: string;
  run(exchange: Exchange): void | Promise<void>;
}

/** An endpoint's request function. */
export type Endpoint = (ctx: RequestContext) => Promise<void>;

export function step(name: string, run: (exchange: Exchange) => void | Promise<void>): Step {
  return { name, run };
}

const NO_PARAMS: Map<string, string> = new Map();

/**
 * Run `steps` in order; the first that throws answers the request (through the core's error boundary).
 * Only a step that returns a promise is awaited: a synchronous step (method, transport, consumer)
 * costs no microtask turn.
 */
export function endpoint(steps: readonly Step[]): Endpoint {
  return async (ctx) => {
    const exchange: Exchange = { ctx, params: NO_PARAMS, client: undefined };
    for (const { run } of steps) {
      const pending = run(exchange);
      if (pending !== undefined) await pending;
    }
  };
}

/** The client an earlier `authenticate-client` step set. */
export function clientOf(exchange: Exchange): IndexedClient {
  if (exchange.client === undefined) throw new Error('No authenticate-client step before this one');
  return exchange.client;
}
