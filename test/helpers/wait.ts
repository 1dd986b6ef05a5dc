/** Polling for what another process, instance or timer makes true, bounded by a deadline. */
import { connect } from 'node:net';

/** Resolve with the first value `ok` accepts; throw, naming `what` and the last value, past the deadline. */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last value ${value instanceof Error ? value.message : JSON.stringify(value)}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolve with the first truthy value of `probe`. */
export function eventually<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  return until(what, probe, (value) => Boolean(value), timeoutMs, 10);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (a server started by a test). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
