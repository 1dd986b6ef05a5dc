/** Config schema of the `headers` plugin. */
import { Type, type Static } from '@sinclair/typebox';

const HeaderMap = (description: string) => Type.Record(Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", maxLength: 200 }), Type.String({ pattern: '^[^\\r\\n]*$', maxLength: 8000 }), { default: {}, maxProperties: 100, description });
const HeaderList = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { default: [], maxItems: 100, description });

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
