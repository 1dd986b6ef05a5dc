/** Config schema of the `headers` plugin. */
import { Type, type Static } from '@sinclair/typebox';

/** An HTTP field name (RFC 9110 §5.1: a token). */
const HeaderName = Type.String({
  pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
  maxLength: 200,
  description: "A header name (letters, digits and !#$%&'*+.^_`|~-).",
});
/**
 * A value every HTTP stack sends and reads alike: visible ASCII, spaces and tabs. Line breaks would
 * split the header; characters beyond Latin-1 (靴, U+2028) are refused by Node and undici when sent,
 * which would fail every request of the route, and Latin-1 ones (é) are read differently by
 * different stacks: all refused here, when the configuration is written.
 */
const HeaderValue = Type.String({
  pattern: '^[\\t\\x20-\\x7e]*$',
  maxLength: 8000,
  description: 'A header value: visible ASCII characters, spaces and tabs (percent-encode anything else).',
});
const HeaderMap = (description: string) =>
  Type.Record(HeaderName, HeaderValue, { default: {}, maxProperties: 100, description });
const HeaderList = (description: string) => Type.Array(HeaderName, { default: [], maxItems: 100, description });

const Direction = (target: string) =>
  Type.Object(
    {
      add: { title: 'Add', ...HeaderMap(`Headers added to the ${target} when not already present.`) },
      set: { title: 'Set', ...HeaderMap(`Headers set on the ${target}, replacing any value.`) },
      remove: { title: 'Remove', ...HeaderList(`Header names removed from the ${target}.`) },
    },
    { additionalProperties: false, default: {} },
  );

export const HeadersConfigSchema = Type.Object(
  {
    request: { title: 'Request', ...Direction('request sent upstream') },
    response: { title: 'Response', ...Direction('response sent to the client') },
  },
  { additionalProperties: false },
);

export type HeadersConfig = Static<typeof HeadersConfigSchema>;
