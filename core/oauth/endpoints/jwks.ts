/** The JWKS endpoint: the public keys that verify the gateway's JWT access tokens (RFC 8414 `jwks_uri`), public and cacheable. */
import type { KeyService } from '../../keys/key-service.js';
import { endpoint, step, type Endpoint, type Step } from '../endpoint.js';
import { methodStep } from '../steps/require-method.js';
import { transportStep, type TransportRule } from '../steps/transport.js';

export interface JwksEndpointOptions {
  keys: KeyService;
  /** The transport rule, or null where the keys are served over any transport. */
  transport: TransportRule | null;
  maxAgeSeconds: number;
}

export function jwksEndpoint(options: JwksEndpointOptions): Endpoint {
  const headers = {
    'content-type': 'application/jwk-set+json',
    'cache-control': `public, max-age=${options.maxAgeSeconds}`,
  };
  const steps: Step[] = [methodStep(['GET', 'HEAD'])];
  if (options.transport) steps.push(transportStep(options.transport));
  steps.push(step('jwks', (exchange) => exchange.ctx.respond(200, options.keys.jwksJson(), headers)));
  return endpoint(steps);
}
