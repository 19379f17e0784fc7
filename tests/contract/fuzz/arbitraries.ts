/**
 * fast-check arbitraries drawn from the OpenAPI document's own JSON Schemas: values that fit the schema
 * (boundaries included) and values that do not, for spec-driven fuzzing (tests/contract/fuzz.test.ts).
 */
import fc from "fast-check";

export type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  default?: unknown;
};

export type Resolve = (ref: string) => Schema;

/** Junk of every JSON type, and strings that break parsers and SQL if anything is careless. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom("", " ", "null", "-1", "1e309", "NaN", "%00", "' OR 1=1 --", "\u0000", "😀".repeat(40)),
  fc.string({ maxLength: 300 }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

function stringFor(s: Schema): fc.Arbitrary<string> {
  switch (s.format) {
    case "uuid":
      return fc.uuid();
    case "email":
      return fc.emailAddress();
    case "date-time":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString());
    case "uri":
      return fc.webUrl();
  }
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, 300);
  return fc.oneof(
    fc.string({ minLength: min, maxLength: Math.max(min, max) }),
    fc.constant("a".repeat(Math.max(min, max))),
  );
}

/** Values that fit the schema, boundaries included. */
export function valid(schema: Schema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  const s = schema.$ref ? resolve(schema.$ref) : schema;
  if (depth > 6) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => valid(a, resolve, depth + 1)));
  if (s.allOf)
    return valid(
      Object.assign({}, ...s.allOf.map((a) => (a.$ref ? resolve(a.$ref) : a))),
      resolve,
      depth + 1,
    );
  const types = Array.isArray(s.type) ? s.type : [s.type ?? "object"];
  return fc.oneof(...types.map((t) => validOfType(t, s, resolve, depth)));
}

function validOfType(type: string, s: Schema, resolve: Resolve, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number": {
      const min = s.minimum ?? -1_000_000;
      const max = s.maximum ?? 1_000_000;
      const arb =
        type === "integer"
          ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
          : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
      return fc.oneof(arb, fc.constantFrom(min, max));
    }
    case "string":
      return stringFor(s);
    case "array":
      return fc.array(valid(s.items ?? {}, resolve, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, 5),
      });
    default: {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = valid(v, resolve, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
    }
  }
}

/** Mostly-valid values with one part broken, plain junk, or valid ones: the mix a fuzzer needs. */
export function input(schema: Schema, resolve: Resolve): fc.Arbitrary<unknown> {
  const s = schema.$ref ? resolve(schema.$ref) : schema;
  const base = valid(s, resolve);
  const broken =
    s.properties && Object.keys(s.properties).length > 0
      ? fc
          .tuple(base, fc.constantFrom(...Object.keys(s.properties), "unexpectedField"), junk)
          .map(([v, key, bad]) => ({ ...(v as object), [key]: bad }))
      : junk;
  return fc.oneof(
    { arbitrary: base, weight: 2 },
    { arbitrary: broken, weight: 2 },
    { arbitrary: junk, weight: 1 },
  );
}
