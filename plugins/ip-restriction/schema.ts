/** Config schema of the `ip-restriction` plugin. */
import { Type, type Static } from '@sinclair/typebox';
import { ADVANCED } from '../../core/plugin-api.js';

const MAX_RANGES = 10_000;
const Range = Type.String({
  minLength: 2,
  maxLength: 64,
  pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
  description: 'An IPv4 or IPv6 address, or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`).',
});

export const IpRestrictionConfigSchema = Type.Object(
  {
    allow: Type.Array(Range, {
      title: 'Allow',
      default: [],
      maxItems: MAX_RANGES,
      description:
        'Addresses and CIDR ranges allowed; when not empty, every other client is refused. IPv4 ranges also match IPv4-mapped IPv6 clients (`::ffff:10.1.2.3`).',
    }),
    deny: Type.Array(Range, {
      title: 'Deny',
      default: [],
      maxItems: MAX_RANGES,
      description: 'Addresses and CIDR ranges refused, even when the allow list contains them (deny wins).',
    }),
    message: Type.String({
      title: 'Message',
      minLength: 1,
      maxLength: 500,
      pattern: '^[^\\x00-\\x1f\\x7f]+$',
      default: 'Your IP address is not allowed',
      description: 'The `error_description` of the 403 `ip_not_allowed` answer.',
      ...ADVANCED,
    }),
  },
  { additionalProperties: false },
);

export type IpRestrictionConfig = Static<typeof IpRestrictionConfigSchema>;
