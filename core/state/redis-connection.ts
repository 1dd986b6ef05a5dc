/**
 * The connection to Redis shared by the Redis state engine and the Redis configuration store: one
 * command connection and one dedicated subscriber connection (a subscribed connection can run no
 * other command), configured to fail fast rather than hang:
 *
 * - no offline queue: while Redis is unreachable a command rejects at once with
 *   `StateUnavailableError` (503) instead of waiting for a reconnection that may never come;
 * - commands in flight when the connection drops are not retried (`maxRetriesPerRequest: 0`), and
 *   a command Redis does not answer within `commandTimeoutMs` rejects (a half-open connection);
 * - reconnection forever, backing off to `maxRetryDelayMs`: everything recovers by itself.
 *
 * The subscriber's channels are ours to track (not ioredis's `autoResubscribe`), so a channel
 * subscribed while Redis was down is subscribed once it returns; and since messages published
 * while the subscriber was disconnected are lost, every reconnection after the first is announced
 * to `onResync` listeners, which rebuild what they derived from messages.
 */
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { StateUnavailableError } from '../errors.js';

export interface RedisConnectionOptions {
  /** A command unanswered after this long rejects (default 2 000 ms). */
  commandTimeoutMs?: number;
  /** A connection attempt gives up after this long (default 1 000 ms). */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 1 000 ms). */
  maxRetryDelayMs?: number;
  /** Told of connection problems (once per transition, not per retry). */
  onStateChange?: (ready: boolean, error?: Error) => void;
}

export class RedisConnection {
  /** The URL with any password masked, for start-up output. */
  readonly location: string;
  readonly client: Redis;
  readonly subscriber: Redis;
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  readonly #readyListeners = new Set<(ready: boolean) => void>();
  readonly #resyncListeners = new Set<() => void>();
  readonly #onStateChange: RedisConnectionOptions['onStateChange'];
  #ready = false;
  #subscriberConnectedBefore = false;
  #lastError: Error | undefined;
  #closed = false;

  constructor(url: string, options: RedisConnectionOptions = {}) {
    this.location = maskPassword(url);
    this.#onStateChange = options.onStateChange;
    const maxDelay = options.maxRetryDelayMs ?? 1000;
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
      enableReadyCheck: true,
      autoResubscribe: false,
    };
    this.client = new Redis(url, { ...common, connectionName: 'portcullis' });
    this.subscriber = new Redis(url, { ...common, connectionName: 'portcullis-subscriber', commandTimeout: undefined });
    for (const connection of [this.client, this.subscriber]) {
      // Without an 'error' listener ioredis would crash the process on the first refused connection.
      connection.on('error', (error: Error) => {
        this.#lastError = error;
      });
      connection.on('ready', () => this.#updateReady());
      connection.on('close', () => this.#updateReady());
      connection.on('end', () => this.#updateReady());
    }
    this.subscriber.on('ready', () => this.#subscriberReady());
    this.subscriber.on('message', (channel: string, message: string) => {
      const listeners = this.#channels.get(channel);
      if (listeners) for (const listener of listeners) deliver(listener, message);
    });
  }

  get ready(): boolean {
    return this.#ready;
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /** Called after the subscriber reconnected (messages may have been lost). */
  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /** Connect both connections; rejects with StateUnavailableError when Redis does not answer within `timeoutMs`. */
  async open(timeoutMs = 5000): Promise<void> {
    if (this.#ready) return;
    const connected = Promise.all(
      [this.client, this.subscriber].map((c) => (c.status === 'wait' ? c.connect().catch(() => {}) : undefined)),
    );
    void connected;
    const deadline = Date.now() + timeoutMs;
    while (!this.#ready) {
      if (this.#closed) throw new StateUnavailableError('The Redis connection is closed');
      if (Date.now() >= deadline) {
        throw new StateUnavailableError(
          `Redis at ${this.location} did not answer within ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError.message}` : ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Run commands, turning connection failures into StateUnavailableError (Redis's own replies pass through). */
  async run<T>(commands: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await commands(this.client);
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  /** Listen to a (fully qualified) channel; returns the unsubscribe function. */
  subscribe(channel: string, listener: (message: string) => void): () => void {
    let listeners = this.#channels.get(channel);
    if (!listeners) {
      this.#channels.set(channel, (listeners = new Set()));
      // When down, the channel is subscribed on the next 'ready' with the others.
      if (this.subscriber.status === 'ready') this.subscriber.subscribe(channel).catch(() => {});
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size > 0) return;
      this.#channels.delete(channel);
      if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(channel).catch(() => {});
    };
  }

  /** Publish a message to a (fully qualified) channel. */
  publish(channel: string, message: string): Promise<void> {
    return this.run(async (client) => {
      await client.publish(channel, message);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [this.client, this.subscriber].map(async (c) => {
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }),
    );
    this.#updateReady();
  }

  #subscriberReady(): void {
    const channels = [...this.#channels.keys()];
    const resubscribed = channels.length > 0 ? this.subscriber.subscribe(...channels) : Promise.resolve(0);
    const reconnected = this.#subscriberConnectedBefore;
    this.#subscriberConnectedBefore = true;
    if (!reconnected) return;
    // Resync once the channels are heard again (nothing published after the rebuild is missed)
    // and the command connection can run the rebuild's reads.
    void resubscribed.then(
      async () => {
        if (this.client.status !== 'ready') await new Promise((resolve) => this.client.once('ready', resolve));
        for (const listener of this.#resyncListeners) listener();
      },
      () => {},
    );
  }

  #updateReady(): void {
    const ready = !this.#closed && this.client.status === 'ready' && this.subscriber.status === 'ready';
    if (ready === this.#ready) return;
    this.#ready = ready;
    this.#onStateChange?.(ready, ready ? undefined : this.#lastError);
    for (const listener of this.#readyListeners) listener(ready);
  }
}

/** Redis's replies (WRONGTYPE, a script error) are programming errors; anything else means Redis is out of reach. */
export function asUnavailable(error: unknown): unknown {
  if (error instanceof ReplyError || error instanceof StateUnavailableError) return error;
  return new StateUnavailableError().withCause(error);
}

function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function deliver(listener: (message: string) => void, message: string): void {
  try {
    listener(message);
  } catch {
    // the listener's owner logs its own failures
  }
}
