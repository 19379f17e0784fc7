import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeCursor } from "../../src/core/cursor.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createApiKey, jsonRequest, registerUser, type TestUser, testIp } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Parameter = { name: string; in: string; schema?: Schema };
type Operation = {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const HOSTILE = ["a\u0000b", "\ud800", "x\udfffy"] as const;

let t: TestApp;
let doc: Document;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({
    MAX_BODY_BYTES: "2048",
    UPLOAD_MAX_REQUEST_BYTES: "4096",
    UPLOAD_MAX_FILE_BYTES: "2048",
  });
  doc = (await (await t.request("/v1/openapi.json")).json()) as Document;
  admin = await registerUser(t, { role: "admin" });
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(doc.paths)
    .filter(([path]) => path.startsWith("/v1/"))
    .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  return resolve(doc.components.schemas[schema.$ref.split("/").at(-1)!]);
}

function isString(s: Schema | undefined): boolean {
  const type = resolve(s)?.type;
  return type === "string" || (Array.isArray(type) && type.includes("string"));
}

/** Free text: nothing but our text type stands between it and the database. */
function isFreeText(s: Schema | undefined): boolean {
  const r = resolve(s);
  return isString(r) && !r?.format && !r?.enum && !r?.pattern;
}

type Leaf = { path: string[]; schema: Schema };
/** Every string a client can place in a body: properties, array items and record values, nested. */
function stringLeaves(schema: Schema | undefined, path: string[] = [], depth = 0): Leaf[] {
  const s = resolve(schema);
  if (!s || depth > 6) return [];
  if (isString(s)) return [{ path, schema: s }];
  const variants = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  return [
    ...variants.flatMap((v) => stringLeaves(v, path, depth + 1)),
    ...Object.entries(s.properties ?? {}).flatMap(([k, v]) => stringLeaves(v, [...path, k], depth + 1)),
    ...(s.items ? stringLeaves(s.items, [...path, "0"], depth + 1) : []),
    ...(typeof s.additionalProperties === "object"
      ? stringLeaves(s.additionalProperties, [...path, "key"], depth + 1)
      : []),
  ];
}

function bodyWith(path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  return head === "0" ? [bodyWith(rest, value)] : { [head!]: bodyWith(rest, value) };
}

function concretePath(template: string, override?: { name: string; raw: string }): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) =>
    override?.name === name ? override.raw : name === "file" ? "original.jpg" : crypto.randomUUID(),
  );
}

// Every request from its own client address: the per-IP limits on sign-in and registration must not answer first.
const headers = (extra: Record<string, string> = {}) => ({
  ...admin.headers,
  "fly-client-ip": testIp(),
  ...extra,
});

async function send(method: string, url: string, init: RequestInit = {}) {
  const res = await t.request(url, { method: method.toUpperCase(), ...init });
  expect(res.status, `${method.toUpperCase()} ${url}`).toBeLessThan(500);
  return res;
}

describe("hostile text is refused at the schema (findings: NUL and lone surrogates answered 500)", () => {
  test("GET /v1/species?q=a%00b is a 400 naming query.q", async () => {
    const problem = await expectProblem(await t.request("/v1/species?q=a%00b"), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain("query.q");
  });

  test("a cursor carrying a NUL byte is a 400, not a database error", async () => {
    const cursor = encodeCursor({ s: "a\u0000b", i: crypto.randomUUID() });
    await expectProblem(await t.request(`/v1/species?cursor=${cursor}`), 400, "invalid_cursor");
  });

  test.each([
    ["PATCH", "/v1/me", { displayName: "Ada\u0000" }, "json.displayName"],
    ["PATCH", "/v1/me", { preferences: { units: "\ud800" } }, "json.preferences.units"],
    ["POST", "/v1/api-keys", { name: "kiosk\u0000", scopes: ["species:read"] }, "json.name"],
  ])("%s %s with hostile text is a 400 naming %s", async (method, path, body, field) => {
    const res = await t.request(path, jsonRequest(method, body, admin.headers));
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain(field);
  });

  test("display names and e-mail addresses are normalised (NFC, NFKC) before they are stored or compared", async () => {
    const decomposed = "Zoe\u0308"; // "Zoë" written with a combining diaeresis
    const res = await t.request("/v1/me", jsonRequest("PATCH", { displayName: decomposed }, admin.headers));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { displayName: string }).displayName).toBe("Zo\u00eb");
    const u = await registerUser(t);
    const fullWidth = u.email.replace("@", "\uff20"); // FULLWIDTH COMMERCIAL AT folds to "@" under NFKC
    const login = await t.request(
      "/v1/auth/login",
      jsonRequest("POST", { email: fullWidth, password: u.password }, { "fly-client-ip": testIp() }),
    );
    expect(login.status).toBe(200);
  });

  test("fuzz: every string in every /v1 operation of the document (query, path, JSON body, form, cursor) never answers 5xx", async () => {
    const key = await createApiKey(t, admin.accessToken, ["species:read"]);
    expect(key.key).toStartWith("pc_live_");
    let fields = 0;
    for (const { path, method, op } of operations()) {
      const params = op.parameters ?? [];
      for (const p of params.filter((p) => (p.in === "query" || p.in === "path") && isString(p.schema))) {
        for (const value of HOSTILE) {
          fields += 1;
          const raw = value.isWellFormed() ? encodeURIComponent(value) : "%ED%A0%80";
          const url =
            p.in === "path"
              ? concretePath(path, { name: p.name, raw })
              : `${concretePath(path)}?${p.name}=${raw}`;
          const res = await send(method, url, { headers: headers() });
          if (p.in === "query" && isFreeText(p.schema) && value.isWellFormed()) {
            const problem = await expectProblem(res, 400, "validation_failed");
            expect(problem.errors?.map((e) => e.path)).toContain(`query.${p.name}`);
          }
        }
      }
      if (params.some((p) => p.name === "cursor")) {
        for (const value of HOSTILE) {
          const cursor = encodeCursor({ s: value, c: value, i: value });
          await expectProblem(
            await send(method, `${concretePath(path)}?cursor=${cursor}`, { headers: headers() }),
            400,
            "invalid_cursor",
          );
        }
      }
      for (const [mediaType, content] of Object.entries(op.requestBody?.content ?? {})) {
        for (const leaf of stringLeaves(content.schema)) {
          for (const value of HOSTILE) {
            fields += 1;
            const url = concretePath(path);
            if (mediaType === "application/json") {
              const res = await send(method, url, {
                headers: headers({ "content-type": "application/json" }),
                body: JSON.stringify(bodyWith(leaf.path, value)),
              });
              if (isFreeText(leaf.schema)) {
                const problem = await expectProblem(res, 400, "validation_failed");
                const field = ["json", ...leaf.path.filter((s) => s !== "key")].join(".");
                expect(
                  problem.errors?.map((e) => e.path),
                  `${method} ${path} ${field}`,
                ).toContainEqual(expect.stringMatching(new RegExp(`^${field.replaceAll(".", "\\.")}`)));
              }
            } else {
              const form = new FormData();
              form.append(leaf.path[0] ?? "field", value);
              const res = await send(method, url, { headers: headers(), body: form });
              expect(res.status).toBeGreaterThanOrEqual(400);
            }
          }
        }
      }
    }
    // The walk reached the fields the review found (and more): the document lists them all.
    expect(fields).toBeGreaterThan(60);
  });
});

describe("413 for every oversized body, chunked or not (finding: chunked JSON answered 400 malformed_body)", () => {
  function chunked(bytes: number, multipart: boolean): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= bytes) return controller.close();
        const head = multipart
          ? '--xyz\r\nContent-Disposition: form-data; name="images"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
          : '{"x":"';
        const chunk = new TextEncoder().encode(sent === 0 ? head : "a".repeat(500));
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
  }

  test("every /v1 operation with a body answers 413 payload_too_large to an oversized chunked body", async () => {
    let checked = 0;
    for (const { path, method, op } of operations()) {
      // A signed URL (PUT /v1/uploads/{id}) refuses an unsigned request before reading it (403, as S3 does);
      // its 413 on a signed one is tested in tests/http/uploads.test.ts.
      if (op.parameters?.some((p) => p.name === "signature")) continue;
      for (const mediaType of Object.keys(op.requestBody?.content ?? {})) {
        const multipart = mediaType === "multipart/form-data";
        const contentType = multipart ? `${mediaType}; boundary=xyz` : mediaType;
        const res = await t.request(concretePath(path), {
          method: method.toUpperCase(),
          headers: headers({ "content-type": contentType }),
          body: chunked(64 * 1024, multipart),
          duplex: "half",
        } as RequestInit);
        expect(res.status, `${method} ${path} ${mediaType}`).toBe(413);
        await expectProblem(res, 413, "payload_too_large");
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(8);
  });
});

describe("trailing slashes: one rule (finding: /v1/species/ answered 405)", () => {
  test("GET and HEAD on a route spelled with a trailing slash redirect (308) to the route, keeping the query", async () => {
    const res = await t.request("/v1/species/?limit=2");
    expect(res.status).toBe(308);
    // Location is absolute (issue #12): the origin the client called.
    expect(res.headers.get("location")).toBe("http://localhost/v1/species?limit=2");
    const head = await t.request(`/v1/species/${crypto.randomUUID()}/`, { method: "HEAD" });
    expect(head.status).toBe(308);
    expect(head.headers.get("location")).toMatch(/^http:\/\/localhost\/v1\/species\/[0-9a-f-]{36}$/);
  });

  test("other methods on a trailing-slash spelling are a 404 problem, not a 405", async () => {
    const res = await t.request("/v1/species/", jsonRequest("POST", {}, admin.headers));
    await expectProblem(res, 404, "route_not_found");
    await expectProblem(
      await t.request("/v1/me/", { method: "DELETE", headers: admin.headers }),
      404,
      "route_not_found",
    );
  });

  test("a trailing slash on a path that is no route stays a plain 404", async () => {
    await expectProblem(await t.request("/v1/nothing-here/"), 404, "route_not_found");
  });
});
