/**
 * Gives back the young generation a large data file's load grew. Loading 100 000 entities keeps
 * most of what it allocates, so V8 grows the semi-spaces to `--max-semi-space-size` (32 MiB each)
 * and keeps them committed: 64 MiB of a 100 000-key gateway's ~230 MiB RSS, idle. V8 shrinks them
 * only in a full GC that finds the allocation rate of the last seconds low, and its own idle-time
 * collection (the memory reducer) does not; so once the process has been quiet for a few seconds,
 * one memory-reducing full GC (V8's "last resort" flavour: ~20 ms for 100 000 keys) is run. Under
 * load the young generation grows again as the flag intends: the hot path keeps its 32 MiB.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';

/** A data file at least this large is worth the collection (a 10-key file's load grows nothing). */
export const LARGE_DATA_FILE_BYTES = 4 << 20;
/**
 * V8 measures the allocation rate between the samples it takes at each GC, over the last 5 s: a
 * scavenge once the load is over opens a window, and a collection 6 quiet seconds later finds it
 * empty (a window that began during the load would still count the load's allocations).
 */
const OPEN_AFTER_QUIET_SECONDS = 1;
const RELEASE_AFTER_QUIET_SECONDS = 6;
/** Share of a second the event loop may be busy for that second to count as quiet. */
const QUIET_UTILIZATION = 0.05;
/** A gateway never quiet that long (steady traffic) keeps its young generation: it uses it. */
const GIVE_UP_SECONDS = 300;

type GcFunction = (options?: { type: 'minor' }) => void;

/** V8's `gc` in a context of its own: the flag exposes it to contexts created afterwards, never to the gateway's. */
function exposedGc(): GcFunction {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  setFlagsFromString('--no-expose-gc'); // contexts made later (a worker's) do not get it
  return gc;
}

/**
 * Once the process has been quiet a second, a scavenge (V8's sample); once quiet 6 more seconds, a
 * full collection (the load's garbage in the old generation), then a scavenge: with the allocation
 * rate low, V8 shrinks the semi-spaces after it (not after a full GC, in Node 20's V8). Once.
 */
export function releaseHeapWhenQuiet(): void {
  let gc: GcFunction | null = null;
  let quiet = 0;
  let elapsed = 0;
  let since = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const busy = performance.eventLoopUtilization(since).utilization;
    since = performance.eventLoopUtilization();
    quiet = busy <= QUIET_UTILIZATION ? quiet + 1 : 0;
    elapsed++;
    if (gc === null && quiet >= OPEN_AFTER_QUIET_SECONDS) {
      gc = exposedGc();
      gc({ type: 'minor' });
      quiet = 0;
    } else if (gc !== null && quiet >= RELEASE_AFTER_QUIET_SECONDS) {
      gc();
      gc({ type: 'minor' });
      clearInterval(timer);
    }
    if (elapsed >= GIVE_UP_SECONDS) clearInterval(timer);
  }, 1000);
  timer.unref();
}
