/**
 * jose's raw rates, run as its own process so it can be placed on the proxy's core:
 * `raw-crypto sign <alg> <seconds> <concurrency>` or `raw-crypto verify <alg> <seconds> <concurrency> <token> <jwk-json>`.
 * Prints the rate (operations per second) and, for signing, the CPU µs per signature of the whole
 * process (every thread: WebCrypto signs on libuv's thread pool), the figure to compare with the
 * gateway's CPU µs per token read from /proc.
 */
import { joseSignRate } from './oauth.js';
import { joseVerifyRate } from './jwt.js';

const [mode, alg, seconds, concurrency, token, jwk] = process.argv.slice(2);
if (mode === 'sign') {
  const { perSecond, cpuUs } = await joseSignRate(alg!, Number(seconds), Number(concurrency));
  process.stdout.write(`${perSecond} ${cpuUs}\n`);
} else {
  const rate = await joseVerifyRate(token!, JSON.parse(jwk!), alg!, Number(seconds), Number(concurrency));
  process.stdout.write(`${rate}\n`);
}
