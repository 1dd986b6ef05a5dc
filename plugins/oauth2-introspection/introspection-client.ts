/**
 * The call to the authorization server: its introspection endpoint (configured, or discovered from
 * the issuer's RFC 8414 / OpenID metadata and kept for `discoveryTtlSeconds`), the RFC 7662 POST
 * with the gateway's client authentication, and the answer checked for shape. Anything but a JSON
 * object with a boolean `active` in a 200 (refused connection, timeout, 5xx, 401 for wrong client
 * credentials, HTML, a truncated body, a member named twice) is an `IntrospectionUnavailableError`: the gateway cannot
 * tell, so it refuses (fail closed).
 */
import { request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { IntrospectionUnavailableError, parseStrictJson, type StateValue } from '../../core/plugin-api.js';
import type { OAuth2IntrospectionConfig } from './schema.js';

/** Introspection answers and metadata documents are small; a provider sending more is broken. */
const MAX_BODY_BYTES = 64 * 1024;
/** After a failed discovery, requests fail fast for this long instead of each asking again. */
const DISCOVERY_RETRY_MS = 2_000;

/** An RFC 7662 response as received: `active`, and whatever members the server adds. */
export type IntrospectionResponse = { [member: string]: StateValue; active: boolean };

type ClientConfig = Pick<
  OAuth2IntrospectionConfig,
  | 'introspectionUrl'
  | 'issuer'
  | 'discoveryTtlSeconds'
  | 'clientId'
  | 'clientSecret'
  | 'clientAuthMethod'
  | 'tokenTypeHint'
  | 'timeoutMs'
>;

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** The metadata URLs of an issuer, RFC 8414 §3.1 first (the well-known part before the issuer's path), then OpenID Connect Discovery. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
  ];
}

async function readJson(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`the answer exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  // A member named twice (`"active":false,"active":true`) is refused: the server may mean the other one.
  return parseStrictJson(Buffer.concat(chunks).toString('utf8'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class IntrospectionClient {
  readonly #config: ClientConfig;
  readonly #log: Logger | null;
  readonly #authorization: string | null;
  /** The discovered endpoint and until when it is used. */
  #discovered: { url: string; until: number } | null = null;
  #discovering: Promise<string> | null = null;
  #discoveryFailedAt = 0;

  constructor(config: ClientConfig, log: Logger | null) {
    this.#config = config;
    this.#log = log;
    this.#authorization =
      config.clientAuthMethod === 'client_secret_basic' ? basicCredentials(config.clientId, config.clientSecret) : null;
  }

  /** Introspect one token; rejects with IntrospectionUnavailableError when no usable answer came in time. */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const config = this.#config;
    const endpoint = await this.#endpoint();
    const form = new URLSearchParams({ token });
    if (config.tokenTypeHint) form.set('token_type_hint', config.tokenTypeHint);
    if (this.#authorization === null) {
      form.set('client_id', config.clientId);
      form.set('client_secret', config.clientSecret);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.#authorization !== null) headers.authorization = this.#authorization;
    let answer: unknown;
    try {
      const res = await request(endpoint, {
        method: 'POST',
        headers,
        body: form.toString(),
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`the introspection endpoint answered ${res.statusCode}`);
      }
      answer = await readJson(res.body);
    } catch (error) {
      this.#log?.warn({ err: error, endpoint }, 'token introspection failed; refusing the request');
      throw new IntrospectionUnavailableError();
    }
    if (!isObject(answer) || typeof answer.active !== 'boolean') {
      this.#log?.warn(
        { endpoint },
        'the introspection endpoint answered something that is not an RFC 7662 response; refusing the request',
      );
      throw new IntrospectionUnavailableError();
    }
    return answer as IntrospectionResponse;
  }

  #endpoint(): Promise<string> | string {
    const config = this.#config;
    if (config.introspectionUrl !== undefined) return config.introspectionUrl;
    const now = Date.now();
    if (this.#discovered && this.#discovered.until > now) return this.#discovered.url;
    if (now - this.#discoveryFailedAt < DISCOVERY_RETRY_MS) {
      if (this.#discovered) return this.#discovered.url;
      throw new IntrospectionUnavailableError(
        "The authorization server's metadata could not be fetched; try again shortly",
      );
    }
    // One discovery at a time: the requests arriving meanwhile wait for it.
    return (this.#discovering ??= this.#discover(config.issuer!).finally(() => {
      this.#discovering = null;
    }));
  }

  async #discover(issuer: string): Promise<string> {
    const problems: string[] = [];
    for (const url of metadataUrls(issuer)) {
      try {
        const res = await request(url, {
          method: 'GET',
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(this.#config.timeoutMs),
        });
        if (res.statusCode !== 200) {
          await res.body.dump();
          problems.push(`${url} answered ${res.statusCode}`);
          continue;
        }
        const metadata = await readJson(res.body);
        // RFC 8414 §3.3: the document must name the issuer it was fetched for.
        if (!isObject(metadata) || metadata.issuer !== issuer) {
          problems.push(`${url} is not the metadata of ${issuer}`);
          continue;
        }
        const endpoint = metadata.introspection_endpoint;
        if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) {
          problems.push(`${url} names no introspection_endpoint`);
          continue;
        }
        this.#discovered = { url: endpoint, until: Date.now() + this.#config.discoveryTtlSeconds * 1000 };
        return endpoint;
      } catch (error) {
        problems.push(`${url}: ${(error as Error).message}`);
      }
    }
    this.#discoveryFailedAt = Date.now();
    // A provider that stays down keeps its last known endpoint rather than taking the route down.
    if (this.#discovered) {
      this.#log?.warn(
        { issuer, problems },
        'authorization server metadata not refreshed; using the endpoint discovered before',
      );
      return this.#discovered.url;
    }
    this.#log?.warn({ issuer, problems }, 'authorization server metadata could not be fetched; refusing the request');
    throw new IntrospectionUnavailableError(
      "The authorization server's metadata could not be fetched; try again shortly",
    );
  }
}
