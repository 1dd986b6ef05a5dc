/**
 * The request a step sees, and what steps do with it: typed attributes (augment
 * `ContextAttributes` of `core/plugin-api.js`), credentials in headers, values sent upstream.
 */
export { RequestContext, type ContextAttributes, type ResponseHead } from '../plugin-runtime/context.js';
export { parseBasicAuth } from '../admin/admin-auth.js';
// Values from tokens and identity providers sent upstream as headers: one documented encoding
export { headerValue, claimHeaderValue } from '../http/header-values.js';
// JSON from an authority trusted for a decision: a member named twice is refused
export { parseStrictJson } from '../http/strict-json.js';
