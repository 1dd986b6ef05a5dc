/**
 * `ip-restriction`: allow and deny lists of addresses and CIDR ranges (IPv4 and IPv6), checked
 * against the client address the core computes (`ctx.clientIp`: the peer, or the client behind
 * `proxy.trustedProxies` taken from X-Forwarded-For). Deny wins over allow; a non-empty allow list
 * refuses everyone else. Ranges are parsed when the configuration is written (a bad one is a 400
 * naming its path) and compiled into a matcher once; a request only parses its own address.
 */
import type { ErrorDetail, Plugin, PluginSteps, RequestContext } from '../../core/plugin-api.js';
import { listOf, IpNotAllowedError } from '../../core/plugin-api.js';
import { IpRestrictionConfigSchema, type IpRestrictionConfig } from './schema.js';
import { addressWords, compileMatcher, parseCidr, type Cidr } from './cidr.js';

export class IpRestrictionPlugin implements Plugin<typeof IpRestrictionConfigSchema> {
  readonly id = 'ip-restriction';
  readonly name = 'IP restriction';
  readonly description =
    'Allows or denies clients by address: allow and deny lists of IPv4 and IPv6 CIDR ranges, deny winning; behind trusted proxies, the address from X-Forwarded-For.';
  readonly configSchema = IpRestrictionConfigSchema;
  readonly steps = ['preRoute'] as const;

  checkConfig(config: IpRestrictionConfig): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    for (const list of ['allow', 'deny'] as const) {
      config[list].forEach((text, i) => {
        const parsed = parseCidr(text);
        if (typeof parsed === 'string') problems.push({ path: `/${list}/${i}`, message: parsed });
      });
    }
    if (config.allow.length === 0 && config.deny.length === 0)
      problems.push({ path: '/allow', message: 'Give an allow list, a deny list, or both' });
    return problems;
  }

  describe(config: IpRestrictionConfig): string {
    const allow = config.allow.length ? `only ${listOf(config.allow, 'and', 2)}` : 'every address';
    return `Allows ${allow}${config.deny.length ? `, except ${listOf(config.deny, 'and', 2)}` : ''}; others 403`;
  }

  instantiate(config: IpRestrictionConfig): PluginSteps {
    const ranges = (list: readonly string[]) => list.map((text) => parseCidr(text) as Cidr);
    const allowed = config.allow.length > 0 ? compileMatcher(ranges(config.allow)) : null;
    const denied = config.deny.length > 0 ? compileMatcher(ranges(config.deny)) : null;
    const message = config.message;
    return {
      preRoute: function restrictByAddress(ctx: RequestContext): void {
        const words = addressWords(ctx.clientIp);
        // An address that cannot be read matches no range: refused, whatever the lists say.
        if (words === null || (denied !== null && denied(words)) || (allowed !== null && !allowed(words)))
          throw new IpNotAllowedError(message);
      },
    };
  }
}
