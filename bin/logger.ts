/**
 * pino logger: JSON lines in production, pretty when stdout is a terminal. Credentials are redacted
 * by path, and the access log never records headers in the first place.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { BootConfig } from '../core/config/boot-config.js';

/** Header names whose values never reach a log line. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'portcullis-client-secret',
]);
/** Field names whose values never reach a log line. */
const SECRET_FIELDS = new Set([
  'password',
  'clientSecret',
  'client_secret',
  'secret',
  'privateKey',
  'token',
  'access_token',
]);

function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in headers) out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : headers[name];
  return out;
}

function redactFields(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(redactFields);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value))
    out[key] = SECRET_FIELDS.has(key)
      ? '[redacted]'
      : key === 'headers' && typeof field === 'object' && field
        ? redactHeaders(field as Record<string, unknown>)
        : redactFields(field);
  return out;
}

/**
 * Serializers run only when a log call carries that key, so redaction costs nothing on the access
 * log (whose fields are chosen, never copied from the request) unlike path-based redaction.
 */
export const LOG_SERIALIZERS = {
  err: pino.stdSerializers.err,
  headers: redactHeaders,
  req: (req: { method?: string; url?: string; headers?: Record<string, unknown> }) => ({
    method: req.method,
    url: req.url,
    headers: req.headers ? redactHeaders(req.headers) : undefined,
  }),
  body: redactFields,
  entity: redactFields,
  config: redactFields,
};

export function createLogger(config: BootConfig['log'], destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: 'portcullis' },
    serializers: LOG_SERIALIZERS,
  };
  if (destination) return pino(options, destination as pino.DestinationStream);
  const pretty = config.pretty === 'auto' ? Boolean(process.stdout.isTTY) : config.pretty;
  if (pretty)
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  // Buffered asynchronous writes (fewer syscalls under load: one per 32 KiB of lines), flushed at
  // least every second so a quiet gateway's lines still show up promptly.
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 32 * 1024, maxWrite: 64 * 1024 });
  setInterval(() => stdout.flush(), 1000).unref();
  return pino(options, stdout);
}
