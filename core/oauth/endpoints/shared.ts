/** The steps every client-authenticated endpoint starts with: POST, transport, parameters, client. */
import type { Step } from '../endpoint.js';
import { CLIENT_AUTH_PARAMS } from '../steps/authenticate-client.js';
import { methodStep } from '../steps/require-method.js';
import { paramsStep } from '../steps/read-params.js';
import { transportStep, type TransportRule } from '../steps/transport.js';

/** How an endpoint receives its client: the transport rule and the authentication step(s) (with `record-consumer` where the plugin counts the client as the request's consumer). */
export interface ClientEndpointOptions {
  transport: TransportRule;
  authenticate: readonly Step[];
}

/** The parameters of introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1). */
export const MANAGEMENT_PARAMS: ReadonlySet<string> = new Set(['token', 'token_type_hint', ...CLIENT_AUTH_PARAMS]);

export function authenticatedPost(options: ClientEndpointOptions, known: ReadonlySet<string>): Step[] {
  return [methodStep(['POST']), transportStep(options.transport), paramsStep(known), ...options.authenticate];
}
