/** Step: the parameters the endpoint knows, from the bounded body (`readParams`). */
import { readParams } from '../oauth-request.js';
import { step, type Step } from '../endpoint.js';

export function paramsStep(known: ReadonlySet<string>): Step {
  return step('read-params', async (exchange) => {
    exchange.params = await readParams(exchange.ctx, known);
  });
}
