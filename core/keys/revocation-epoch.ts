/**
 * The revocation epoch: a value every cache of token verdicts (the introspection results of
 * `oauth2-introspection`) puts in its keys, advanced whenever the gateway revokes a token (an
 * `oauth2` grant or token, a gateway token by `jti`, a client's tokens by cut-off). Advancing it
 * turns every cached verdict into a miss at once, on every process and instance, without the
 * revoking code knowing who caches what or by which key: a plugin that caches never imports the
 * one that revokes.
 *
 * The value is stored in the durable `revocation-epoch` namespace and announced by
 * publish/subscribe (50 ms embedded, Redis pub/sub), re-read at start and on every resync. Values
 * are ordered (time first, in fixed-width base 36) and a process only ever moves forward, so two
 * instances revoking at once converge on the later value whatever order the messages arrive in.
 * An entry cached under an epoch was looked up after that epoch was stored, hence after every
 * revocation it stands for.
 */
import { randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import { LOGGER, STATE_STORE } from '../tokens.js';
import type { StateNamespace, StateStore } from '../state/state-store.js';

const NAMESPACE = 'revocation-epoch';
const KEY = 'epoch';
const CHANNEL = 'advanced';
/** Longer than any cache of verdicts keeps an entry: once the record expires, so has every entry keyed by an older epoch. */
const EPOCH_TTL_MS = 30 * 86_400_000;

/** Time first (ms, base 36, fixed width), then randomness: a later advance compares greater. */
function nextEpoch(nowMs: number): string {
  return `${nowMs.toString(36).padStart(10, '0')}.${randomBytes(6).toString('base64url')}`;
}

@injectable()
export class RevocationEpoch {
  readonly #state: StateStore;
  readonly #log: Logger | null;
  #namespace: StateNamespace | null = null;
  /** '' until a revocation is known (none ever, or so long ago that every cached verdict has expired). */
  #current = '';
  readonly #stops: Array<() => void> = [];

  constructor(@inject(STATE_STORE) state: StateStore, @inject(LOGGER, { isOptional: true }) log?: Logger) {
    this.#state = state;
    this.#log = log?.child({ component: 'revocation-epoch' }) ?? null;
  }

  get #ns(): StateNamespace {
    return (this.#namespace ??= this.#state.namespace(NAMESPACE, { durable: true }));
  }

  /** The current epoch: part of every cached verdict's key (synchronous, no storage access). */
  get current(): string {
    return this.#current;
  }

  /** Subscribe, then read the stored epoch; complete before the first request. */
  async start(): Promise<void> {
    const ns = this.#ns;
    this.#stops.push(ns.subscribe(CHANNEL, (message) => this.#adopt(message)));
    this.#stops.push(
      ns.onResync(
        () =>
          void this.#reload().catch((error: unknown) =>
            this.#log?.warn({ err: error }, 'revocation epoch not re-read; keeping the one held'),
          ),
      ),
    );
    await this.#reload();
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /**
   * A token was revoked: cached verdicts stop counting here at once and on other processes and
   * instances within the engine's delivery latency. Rejects with StateUnavailableError when the
   * state store is unreachable (the revocation itself could not have been stored either).
   */
  async advance(nowMs = Date.now()): Promise<void> {
    const next = nextEpoch(nowMs);
    await this.#ns.set(KEY, next, EPOCH_TTL_MS);
    this.#adopt(next);
    try {
      await this.#ns.publish(CHANNEL, next);
    } catch (error) {
      this.#log?.warn(
        { err: error },
        'revocation epoch stored but not announced; other instances learn of it at their next resync',
      );
    }
  }

  #adopt(value: unknown): void {
    if (typeof value === 'string' && value > this.#current) this.#current = value;
  }

  async #reload(): Promise<void> {
    this.#adopt(await this.#ns.get<string>(KEY));
  }
}
