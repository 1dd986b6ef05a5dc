/**
 * The metrics contract: what plugins report (`Metrics`, under the `METRICS` token) and the fixed
 * label values. A leaf module, so the DI tokens and the write service can name it without importing
 * the registry behind it.
 */

/** Label value for anything outside a counter's declared enumeration. */
export const OTHER = 'other';

/** Grant types counted by name; any other counts as `other`. */
export const GRANT_TYPES = [
  'client_credentials',
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;

/** A counter whose labels only take declared values (anything else counts as `other`). */
export interface FixedCounter<L extends string> {
  inc(labels: Readonly<Record<L, string>>, value?: number): void;
}

export interface CounterDefinition<L extends string> {
  /** `portcullis_<what>_total` */
  name: string;
  help: string;
  /** Every label with every value it may take; `other` is added to each. */
  labels: Readonly<Record<L, readonly string[]>>;
}

/**
 * What plugins report (exported by core/plugin-api.ts under `METRICS`). The plugin label is the
 * reporting plugin's id; grant types outside `GRANT_TYPES` count as `other`.
 */
export interface Metrics {
  tokenIssued(plugin: string, grantType: string): void;
  tokenIntrospected(plugin: string, active: boolean): void;
  tokenRevoked(plugin: string): void;
  /** A counter of the plugin's own, all of its series created at once (at zero). Same name twice: the same counter. */
  counter<L extends string>(definition: CounterDefinition<L>): FixedCounter<L>;
}
