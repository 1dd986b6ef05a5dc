/**
 * pino logger: JSON lines in production, pretty when stdout is a terminal. Credentials are redacted
 * by path, and the access log never records headers in the first place.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { BootConfig } from './config.js';

const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]',
  'headers.authorization', 'headers.cookie', '*.password', '*.clientSecret', '*.client_secret', '*.secret', '*.privateKey', 'password', 'clientSecret',
];

export function createLogger(config: BootConfig['log'], destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: 'portcullis' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination) return pino(options, destination as pino.DestinationStream);
  const pretty = config.pretty === 'auto' ? Boolean(process.stdout.isTTY) : config.pretty;
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' } } });
  return pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
}
