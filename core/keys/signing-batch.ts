/**
 * Signatures computed in batches, one batch per turn of the event loop. An ECDSA or EdDSA signature
 * costs ~35 µs in a tight loop but ~75 µs inside the gateway, where each request's own work (HTTP
 * parsing, the answer, the access log, on the same core) evicts the curve's tables and OpenSSL's
 * state from the caches between two signatures (docs/benchmarks.md, "Token endpoint": neither the
 * thread pool nor the key objects were the cause). The signatures asked for during one turn are
 * computed one after the other right after it (`setImmediate`: once the requests of that poll have
 * all been read), so all but the first find the caches warm. On the event loop, not libuv's thread
 * pool: the hand-off to a pool thread and back costs about as much as such a signature (RSA, ~1 ms,
 * stays on the pool). At most `MAX_BATCH` per turn, the rest in the next, so a burst of requests
 * never holds the loop for more than a couple of milliseconds.
 */

export const MAX_BATCH = 32;

const queue: Array<() => void> = [];
let scheduled = false;

function flush(): void {
  const jobs = queue.splice(0, MAX_BATCH);
  scheduled = queue.length > 0;
  if (scheduled) setImmediate(flush);
  for (const job of jobs) job();
}

/** `compute()` in this turn's batch: the promise settles with its result, or its error. */
export function batched<T>(compute: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push(() => {
      try {
        resolve(compute());
      } catch (error) {
        reject(error as Error);
      }
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
