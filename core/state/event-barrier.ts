/**
 * Delivery to every process of one gateway before a publication is acknowledged. With `workers`,
 * the processes share the embedded state store's event log, and each polls it on a timer (50 ms):
 * a revocation acknowledged by one worker could still be accepted by another for that long (an
 * attacker's next call is the one that counts). After a process publishes, `pollSiblings()` asks
 * every other process of the gateway to poll the log now and waits for all of them, over the
 * cluster's IPC channels: the worker asks the primary, the primary polls itself and asks the other
 * workers. A sibling that does not answer within `BARRIER_TIMEOUT_MS` (busy, dying) is not waited
 * for longer: it still polls on its timer.
 *
 * One gateway per process uses it (the event log is per data file); a process without cluster
 * siblings (a single process, tests) resolves at once.
 */
import cluster, { type Worker } from 'node:cluster';

const POLL = 'portcullis:events-poll';
const POLLED = 'portcullis:events-polled';
export const BARRIER_TIMEOUT_MS = 1_000;

interface PollMessage {
  type: typeof POLL;
  id: number;
}
interface PolledMessage {
  type: typeof POLLED;
  id: number;
}

let poll: (() => void) | null = null;
let nextId = 0;
const waiting = new Map<number, () => void>();

function isMessage(message: unknown, type: string): message is { type: string; id: number } {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === type &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}

/** Register this process's poll (its state store's): called when a sibling published. Returns the unregister function. */
export function answerSiblingPolls(pollNow: () => void): () => void {
  poll = pollNow;
  const onPoll = cluster.isWorker ? onPollInWorker : null;
  if (onPoll) process.on('message', onPoll);
  else cluster.on('message', onMessageInPrimary);
  return () => {
    if (poll === pollNow) poll = null;
    if (onPoll) process.off('message', onPoll);
    else cluster.off('message', onMessageInPrimary);
  };
}

/** Resolves once every other process of the gateway has polled the event log (or the timeout passed). */
export function pollSiblings(): Promise<void> {
  if (cluster.isWorker)
    return process.send ? request((id) => process.send!({ type: POLL, id } satisfies PollMessage)) : Promise.resolve();
  return pollWorkers(liveWorkers());
}

function liveWorkers(except?: Worker): Worker[] {
  return Object.values(cluster.workers ?? {}).filter(
    (w): w is Worker => w !== undefined && w !== except && w.isConnected() && !w.isDead(),
  );
}

/** Send one poll request (through `send`) and wait for its answer, at most the timeout. */
function request(send: (id: number) => void): Promise<void> {
  const id = ++nextId;
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve();
    };
    const timer = setTimeout(done, BARRIER_TIMEOUT_MS);
    waiting.set(id, done);
    try {
      send(id);
    } catch {
      done(); // the channel is closing: nobody left to wait for on it
    }
  });
}

function pollWorkers(workers: readonly Worker[]): Promise<void> {
  return Promise.all(
    workers.map((worker) => request((id) => worker.send({ type: POLL, id } satisfies PollMessage))),
  ).then(() => {});
}

/** A worker: the primary asks it to poll (for another process's publication), or answers its own request. */
function onPollInWorker(message: unknown): void {
  if (isMessage(message, POLL)) {
    poll?.();
    process.send?.({ type: POLLED, id: message.id } satisfies PolledMessage);
  } else if (isMessage(message, POLLED)) {
    waiting.get(message.id)?.();
  }
}

/** The primary: a worker published (poll here and on the other workers, then answer it), or a worker answered. */
function onMessageInPrimary(worker: Worker, message: unknown): void {
  if (isMessage(message, POLLED)) return void waiting.get(message.id)?.();
  if (!isMessage(message, POLL)) return;
  poll?.();
  const id = message.id;
  void pollWorkers(liveWorkers(worker)).then(() => {
    if (worker.isConnected()) worker.send({ type: POLLED, id } satisfies PolledMessage);
  });
}
