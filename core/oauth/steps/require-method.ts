/** The first step of every endpoint: an HTTP method it answers, else 405 with `Allow` (the body left unread). */
import { MethodNotAllowedError } from '../../errors.js';
import type { RequestContext } from '../../plugin-runtime/context.js';
import { step, type Step } from '../endpoint.js';

export function requireMethod(ctx: RequestContext, allowed: readonly string[]): void {
  if (!allowed.includes(ctx.method)) {
    ctx.discardBody();
    throw new MethodNotAllowedError([...allowed]);
  }
}

export function methodStep(allowed: readonly string[]): Step {
  return step('require-method', (exchange) => requireMethod(exchange.ctx, allowed));
}
