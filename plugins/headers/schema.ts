/** Config schema of the `headers` plugin. */
import { Type, type Static } from '@sinclair/typebox';

const HeaderMap = (description: string) => Type.Record(Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }), Type.String({ pattern: '^[^\\r\\n]*$' }), { default: {}, description });
const HeaderList = (description: string) => Type.Array(Type.String({ minLength: 1 }), { default: [], description });

const Direction = (target: string) => Type.Object({
  add: HeaderMap(`Headers added to the ${target} when not already present.`),
  set: HeaderMap(`Headers set on the ${target}, replacing any value.`),
  remove: HeaderList(`Header names removed from the ${target}.`),
}, { additionalProperties: false, default: {} });

export const HeadersConfigSchema = Type.Object({
  request: Direction('request sent upstream'),
  response: Direction('response sent to the client'),
}, { additionalProperties: false });

export type HeadersConfig = Static<typeof HeadersConfigSchema>;
