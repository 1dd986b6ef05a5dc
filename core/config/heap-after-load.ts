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
/** V8 measures the allocation rate over 5 s; quiet a little longer, it agrees to shrink. */
const QUIET_SECONDS = 6;
/** Share of a second the event loop may be busy for that second to count as quiet. */
const QUIET_UTILIZATION = 0.05;
/** A gateway never quiet that long (steady traffic) keeps its young generation: it uses it. */
const GIVE_UP_SECONDS = 300;

type GcFunction = (options?: { type: 'minor' }) => void;

/** V8's `gc` in a context of its own: the flag exposes it to contexts created afterwards, never to the gateway's. */
function reducingGc(): GcFunction {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

/**
 * A full collection (the load's garbage in the old generation), then a scavenge: with the allocation
 * rate low, V8 shrinks the semi-spaces after a scavenge (not after a full GC, in Node 20's V8).
 */
function release(gc: GcFunction): void {
  gc();
  gc({ type: 'minor' });
}

/** Once the process has been quiet for `QUIET_SECONDS` in a row, release the young generation once. */
export function releaseHeapWhenQuiet(): void {
  let quiet = 0;
  let elapsed = 0;
  let since = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const busy = performance.eventLoopUtilization(since).utilization;
    since = performance.eventLoopUtilization();
    quiet = busy <= QUIET_UTILIZATION ? quiet + 1 : 0;
    elapsed++;
    if (quiet >= QUIET_SECONDS) release(reducingGc());
    if (quiet >= QUIET_SECONDS || elapsed >= GIVE_UP_SECONDS) clearInterval(timer);
  }, 1000);
  timer.unref();
}
