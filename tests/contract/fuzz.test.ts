/**
 * Spec-driven fuzzing (issue #12): for every operation in the served document, inputs generated from its own
 * schemas (valid, boundary, broken, junk; a bounded number per operation) as an admin, anonymously or with a
 * garbage token. Never a 5xx; every status documented; every error a problem document; every success body and
 * every required header as the document says.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import { useIdentifyApp } from "../helpers/identify.ts";
import { input, junk, type Schema } from "./fuzz/arbitraries.ts";

const RUNS_PER_OPERATION = 12;

type Parameter = { name: string; in: "path" | "query" | "header"; required?: boolean; schema: Schema };
type Response = {
  headers?: Record<string, { $ref?: string; required?: boolean }>;
  content?: Record<string, { schema?: Schema }>;
};
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers: Record<string, { required?: boolean }> };
};

const fx = useIdentifyApp();
let doc: Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

// Read synchronously at collection time so there is one test per operation: the document is built from the
// same route contracts the app serves (scripts/openapi-document.ts builds it the same way, without a server).
const { generateOpenApiDocument } = await import("../../scripts/openapi-document.ts");
const collected = (await generateOpenApiDocument()) as Document;
const operations = Object.entries(collected.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ path, method, id: op.operationId })),
);

beforeAll(async () => {
  doc = (await (await fx.app.request("/v1/openapi.json")).json()) as Document;
  ajv.addSchema({ $id: "doc", components: doc.components });
});

const resolve = (ref: string): Schema => doc.components.schemas[ref.split("/").pop()!] ?? {};
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorFor(key: string, schema: Schema) {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
    validators.set(key, v);
  }
  return v;
}

type Call = { url: string; init: RequestInit };

function requestArbitrary(path: string, method: string, op: Operation, admin: TestUser): fc.Arbitrary<Call> {
  const params = op.parameters ?? [];
  const asText = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  const pathArb = fc.tuple(
    ...params
      .filter((p) => p.in === "path")
      .map((p) => input(p.schema, resolve).map((v) => [p.name, asText(v) || "x"] as const)),
  );
  const queryArb = fc.tuple(
    ...params
      .filter((p) => p.in === "query")
      .map((p) =>
        fc.option(
          input(p.schema, resolve).map((v) => [p.name, asText(v)] as const),
          { nil: undefined },
        ),
      ),
  );
  const auth = fc.constantFrom<Record<string, string>>(
    admin.headers,
    admin.headers,
    {},
    { authorization: "Bearer not.a.token" },
  );
  const content = op.requestBody?.content ?? {};
  const body: fc.Arbitrary<{ body?: RequestInit["body"]; headers: Record<string, string> }> = content[
    "application/json"
  ]
    ? fc
        .oneof(
          input(content["application/json"].schema, resolve).map((v) => JSON.stringify(v) ?? "null"),
          fc.string({ maxLength: 50 }),
        )
        .map((text) => ({
          body: text,
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
        }))
    : content["multipart/form-data"]
      ? fc
          .record({
            files: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }),
            fields: fc.dictionary(
              fc.constantFrom("organs", "latitude", "longitude", "includeHealth", "other"),
              junk.map(asText),
              { maxKeys: 3 },
            ),
          })
          .map(({ files, fields }) => {
            const form = new FormData();
            for (const f of files) form.append("images", new Blob([f as Uint8Array<ArrayBuffer>]), "x.jpg");
            for (const [k, v] of Object.entries(fields)) form.append(k, v);
            return { body: form, headers: {} };
          })
      : fc.constant({ headers: {} });
  return fc.tuple(pathArb, queryArb, auth, body).map(([pathValues, queryValues, headers, b]) => {
    let url = path;
    for (const [name, value] of pathValues) url = url.replace(`{${name}}`, encodeURIComponent(value));
    const query = new URLSearchParams();
    for (const q of queryValues) if (q) query.append(q[0], q[1]);
    const search = query.toString();
    return {
      url: search ? `${url}?${search}` : url,
      init: { method: method.toUpperCase(), headers: { ...headers, ...b.headers }, body: b.body },
    };
  });
}

async function check(path: string, method: string, op: Operation, call: Call) {
  const res = await fx.app.request(call.url, call.init);
  const where = `${method.toUpperCase()} ${call.url} -> ${res.status}`;
  expect(res.status, where).toBeLessThan(500);
  const documented = op.responses[String(res.status)];
  expect(documented, `${where}: status not documented`).toBeDefined();
  for (const [name, header] of Object.entries(documented?.headers ?? {})) {
    const required = header.$ref
      ? doc.components.headers[header.$ref.split("/").pop()!]?.required
      : header.required;
    if (required) expect(res.headers.get(name), `${where}: header ${name}`).not.toBeNull();
  }
  const type = res.headers.get("content-type")?.split(";")[0] ?? "";
  if (res.status >= 400) expect(type, where).toBe("application/problem+json");
  const schema = documented?.content?.[type]?.schema;
  if (type.endsWith("json")) {
    expect(schema, `${where}: content type ${type} not documented`).toBeDefined();
    const body = await res.json();
    const validate = validatorFor(`${path} ${method} ${res.status} ${type}`, schema!);
    expect(validate(body) ? [] : validate.errors, `${where}: ${JSON.stringify(body).slice(0, 300)}`).toEqual(
      [],
    );
  } else {
    await res.body?.cancel();
  }
}

describe("every operation, fuzzed from its own schemas", () => {
  test.each(operations)(
    "$method $path ($id)",
    async ({ path, method }) => {
      const op = doc.paths[path]![method]!;
      const admin = await registerUser(fx.app, { role: "admin" });
      await fc.assert(
        fc.asyncProperty(requestArbitrary(path, method, op, admin), (call) => check(path, method, op, call)),
        { numRuns: RUNS_PER_OPERATION, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
      );
    },
    120_000,
  );
});
