// The banner of a refused save reads as a form error ("The route was not saved: 2 fields need
// attention"), never like the proxy's own denials ("Invalid API key"): the server's sentence stays
// for what is not about one field.
import type { ErrorDetail } from './shapes.js';

/** `what`: the entity as a sentence names it ("route", "API key"). */
export function refusalSummary(what: string, details: readonly ErrorDetail[], message: string): string {
  const fields = new Set(details.map((d) => d.path)).size;
  if (fields === 0) return `The ${what} was not saved: ${message}`;
  return `The ${what} was not saved: ${fields === 1 ? '1 field needs' : `${fields} fields need`} attention`;
}
