/**
 * Webhook deliveries: each transition of an access request is POSTed as JSON to its profile's
 * webhook URL, signed like Stripe's and GitHub's: `X-Portcullis-Timestamp: <unix seconds>` and
 * `X-Portcullis-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` under the profile's
 * secret, so a receiver can check both the origin and the freshness of a call.
 *
 * A delivery is a record in the durable `webhook-deliveries` namespace of the runtime state store:
 * written before the admin answers (so a restart cannot lose it), then sent in the background (the
 * admin write never waits for a receiver). A failure (no answer, a non-2xx status) is retried after
 * `initialBackoffMs`, doubled each time up to `maxBackoffMs`, until `maxAttempts`; every attempt is
 * logged in the record (attempt, time, status or error), which the admin API reads. At start every
 * process resumes the deliveries still pending at their next attempt time; each attempt is claimed
 * with a set-if-absent lease, so several processes or instances never send the same attempt twice.
 * An attempt cut short by a shutdown is not counted: it is sent again after the restart. Receivers
 * should treat `X-Portcullis-Delivery` as an idempotency key (at-least-once delivery).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EntityHandle, StateNamespace, StateStore } from '../../core/plugin-api.js';
import type { AuthorizationProfile } from './entity.js';

export const DELIVERIES_NAMESPACE = 'webhook-deliveries';
/** How long a delivery's record (and its log) is kept. */
const RETENTION_MS = 30 * 86_400_000;
const ATTEMPT_TIMEOUT_MS = 10_000;
/** A claimed attempt that never reported (its process died) is free again after this. */
const LEASE_MS = ATTEMPT_TIMEOUT_MS * 6;

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; absent when none came (connection refused, timeout). */
  status?: number;
  error?: string;
}

export interface Delivery {
  id: string;
  requestId: string;
  profileId: string;
  type: string;
  url: string;
  /** The exact JSON sent (and signed) on every attempt. */
  body: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
  nextAttemptAt: number;
  createdAt: string;
}

/** The signature header value for `body` sent at `timestamp` (epoch seconds). */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookDispatcher {
  readonly #profiles: EntityHandle<AuthorizationProfile>;
  readonly #state: StateStore;
  readonly #log: Logger;
  #namespace: StateNamespace | null = null;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  /** Attempts running, so that a shutdown waits for them to record (or release) their lease. */
  readonly #running = new Set<Promise<void>>();
  #closed = false;

  constructor(profiles: EntityHandle<AuthorizationProfile>, state: StateStore, log: Logger) {
    this.#profiles = profiles;
    this.#state = state;
    this.#log = log.child({ component: 'webhooks' });
  }

  get #ns(): StateNamespace {
    return (this.#namespace ??= this.#state.namespace(DELIVERIES_NAMESPACE, { durable: true }));
  }

  /** Resume the deliveries a previous run left pending. */
  async start(): Promise<void> {
    for (const entry of await this.#ns.entries()) {
      const delivery = entry.value as unknown as Delivery;
      if (entry.key.startsWith('d|') && delivery.state === 'pending')
        this.#schedule(entry.key, delivery.nextAttemptAt - Date.now());
    }
  }

  /** Record a delivery durably and send it in the background; no-op for a profile without webhook. */
  async enqueue(profile: AuthorizationProfile, requestId: string, type: string, data: unknown): Promise<void> {
    if (!profile.webhook) return;
    const id = randomUUID();
    const createdAt = new Date().toISOString();
    const delivery: Delivery = {
      id,
      requestId,
      profileId: profile.id,
      type,
      url: profile.webhook.url,
      body: JSON.stringify({ id, type, createdAt, data }),
      state: 'pending',
      attempts: [],
      nextAttemptAt: Date.now(),
      createdAt,
    };
    const key = `d|${requestId}|${id}`;
    await this.#ns.set(key, delivery as never, RETENTION_MS);
    this.#schedule(key, 0);
  }

  /** The deliveries of one request, oldest first. */
  async list(requestId: string): Promise<Delivery[]> {
    const prefix = `d|${requestId}|`;
    return (await this.#ns.entries())
      .filter((e) => e.key.startsWith(prefix))
      .map((e) => e.value as unknown as Delivery)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Stop scheduling, abort the calls in flight and wait until their attempts have released their leases. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#inFlight) controller.abort();
    await Promise.allSettled([...this.#running]);
  }

  #schedule(key: string, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        const running = this.#attempt(key).catch((error: unknown) =>
          this.#log.warn({ err: error, delivery: key }, 'webhook attempt not recorded; retried at the next start'),
        );
        this.#running.add(running);
        void running.finally(() => this.#running.delete(running));
      },
      Math.max(0, delayMs),
    );
    timer.unref();
    this.#timers.add(timer);
  }

  async #attempt(key: string): Promise<void> {
    const delivery = (await this.#ns.get(key)) as Delivery | undefined;
    if (!delivery || delivery.state !== 'pending' || this.#closed) return;
    const attempt = delivery.attempts.length + 1;
    const lease = `lease|${delivery.id}|${attempt}`;
    if (!(await this.#ns.setIfAbsent(lease, true, LEASE_MS))) {
      // Another process holds this attempt; look again once its lease could have expired (it died).
      this.#schedule(key, LEASE_MS);
      return;
    }
    let profile: AuthorizationProfile | undefined;
    try {
      profile = this.#profiles.get(delivery.profileId);
    } catch {
      profile = undefined;
    }
    const webhook = profile?.webhook;
    const at = new Date().toISOString();
    let outcome: DeliveryAttempt;
    if (!webhook?.secret) {
      // Nothing to sign with (the profile or its webhook was removed, or an import left no secret).
      outcome = {
        attempt,
        at,
        error: profile ? "the profile's webhook has no secret" : 'the authorization profile no longer exists',
      };
    } else {
      const result = await this.#send(delivery, webhook.secret);
      if (result === 'aborted') {
        // Shutting down: this attempt does not count, and the next run may claim it again.
        await this.#ns.delete(lease).catch(() => {});
        return;
      }
      outcome = { attempt, at, ...result };
    }
    const delivered = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
    const maxAttempts = webhook?.maxAttempts ?? attempt;
    const backoff = Math.min(
      (webhook?.initialBackoffMs ?? 1000) * 2 ** (attempt - 1),
      webhook?.maxBackoffMs ?? 3_600_000,
    );
    const next: Delivery = {
      ...delivery,
      attempts: [...delivery.attempts, outcome],
      state: delivered ? 'delivered' : attempt >= maxAttempts || !webhook?.secret ? 'failed' : 'pending',
      nextAttemptAt: Date.now() + backoff,
    };
    await this.#ns.set(key, next as never, RETENTION_MS);
    if (next.state === 'pending') this.#schedule(key, backoff);
    else if (next.state === 'failed')
      this.#log.warn(
        { delivery: delivery.id, request: delivery.requestId, url: delivery.url, attempts: attempt },
        'webhook delivery failed',
      );
  }

  async #send(delivery: Delivery, secret: string): Promise<{ status: number } | { error: string } | 'aborted'> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timeout = setTimeout(
      () => controller.abort(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS} ms`)),
      ATTEMPT_TIMEOUT_MS,
    );
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Portcullis-Webhook',
          'x-portcullis-delivery': delivery.id,
          'x-portcullis-event': delivery.type,
          'x-portcullis-timestamp': String(timestamp),
          'x-portcullis-signature': signature(secret, timestamp, delivery.body),
        },
        body: delivery.body,
      });
      await response.body?.cancel().catch(() => {});
      return { status: response.status };
    } catch (error) {
      if (this.#closed) return 'aborted';
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return { error: String(cause ?? (error as Error).message).slice(0, 300) };
    } finally {
      clearTimeout(timeout);
      this.#inFlight.delete(controller);
    }
  }
}
