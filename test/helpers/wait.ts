/** Polling for what another process, instance or timer makes true, bounded by a deadline. */

/** Resolve with the first value `ok` accepts; throw, naming `what` and the last value, past the deadline. */
export async function until<T>(what: string, probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${value instanceof Error ? value.message : JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolve with the first truthy value of `probe`. */
export function eventually<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  return until(what, probe, (value) => Boolean(value), timeoutMs, 10);
}
