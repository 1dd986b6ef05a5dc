/**
 * jose's raw rates, run as its own process so it can be placed on the proxy's core:
 * `raw-crypto sign <alg> <seconds> <concurrency>` or `raw-crypto verify <alg> <seconds> <concurrency> <token> <jwk-json>`.
 * Prints the rate (operations per second).
 */
import { joseSignRate } from './oauth.js';
import { joseVerifyRate } from './jwt.js';

const [mode, alg, seconds, concurrency, token, jwk] = process.argv.slice(2);
const rate =
  mode === 'sign'
    ? await joseSignRate(alg!, Number(seconds), Number(concurrency))
    : await joseVerifyRate(token!, JSON.parse(jwk!), alg!, Number(seconds), Number(concurrency));
process.stdout.write(`${rate}\n`);
