import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ERROR_CODES } from "../../src/http/errors.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

// Issue #12: the document says what the server really sends.
type Schema = Record<string, unknown>;
type Response = { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> };
type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema: Schema }[];
  requestBody?: unknown;
  responses: Record<string, Response>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers: Record<string, Schema> };
};

let t: TestApp;
let doc: Document;
beforeAll(async () => {
  t = await createTestApp({ MAX_BODY_BYTES: "2048" });
  doc = (await (await t.request("/v1/openapi.json")).json()) as Document;
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op, name: `${method} ${path}` })),
  );

describe("headers and statuses", () => {
  test("429 and 503 document Retry-After, 401 WWW-Authenticate, every /v1 answer RateLimit and RateLimit-Policy", () => {
    for (const { path, op, name } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const headers = Object.keys(response.headers ?? {});
        expect(headers, `${name} ${status}`).toContain("X-Request-Id");
        if (path.startsWith("/v1/"))
          expect(headers).toEqual(expect.arrayContaining(["RateLimit", "RateLimit-Policy"]));
        if (status === "429" || status === "503")
          expect(headers, `${name} ${status}`).toContain("Retry-After");
        const needsCredentials = (op.security ?? []).some((r) => Object.keys(r).length > 0);
        if (status === "401" && needsCredentials) expect(headers, `${name}`).toContain("WWW-Authenticate");
      }
    }
  });

  test("every operation with a body documents 413, and a JSON body over the limit really is a 413 problem", async () => {
    const withBody = operations().filter((o) => o.op.requestBody);
    expect(withBody.length).toBeGreaterThan(8);
    for (const { op, name } of withBody) expect(Object.keys(op.responses), name).toContain("413");
    const body = JSON.stringify({ email: "a@example.test", password: "x".repeat(4096) });
    const res = await t.request("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  test("a 201 documents its Location as an absolute URI", () => {
    const location = doc.paths["/v1/species"]?.post?.responses["201"]?.headers?.Location as {
      schema: Schema;
    };
    expect(location.schema.format).toBe("uri");
  });
});

describe("types", () => {
  test("Problem.code lists exactly the codes the server has, as an open enum", () => {
    const code = (doc.components.schemas.Problem!.properties as Record<string, Schema>).code!;
    const [closed, other] = code.anyOf as Schema[];
    expect((closed!.enum as string[]).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(closed!.enum).not.toContain("invalid_id");
    expect(other).toEqual({ type: "string" });
  });

  test("response enums are open, request enums stay closed", () => {
    const status = (doc.components.schemas.Identification!.properties as Record<string, Schema>).status!;
    expect(status.anyOf).toBeArray();
    const role = (doc.components.schemas.UpdateRole!.properties as Record<string, Schema>).role!;
    expect(role.enum).toBeArray();
    expect(role.anyOf).toBeUndefined();
  });

  test("query numbers and booleans are typed as such", () => {
    const param = (path: string, name: string) =>
      doc.paths[path]?.get?.parameters?.find((p) => p.name === name)?.schema;
    expect(param("/v1/identifications", "minConfidence")).toMatchObject({
      type: "number",
      minimum: 0,
      maximum: 1,
    });
    expect(param("/v1/notifications", "unread")).toMatchObject({ type: "boolean" });
  });

  test("notifications are discriminated by kind with typed data", () => {
    const n = doc.components.schemas.Notification!;
    expect((n.discriminator as { propertyName: string }).propertyName).toBe("kind");
    expect(Object.keys((n.discriminator as { mapping: object }).mapping)).toEqual(
      expect.arrayContaining(["identification.completed", "batch.completed"]),
    );
  });

  test("the unread flag takes true or false and nothing else", async () => {
    const u = await registerUser(t);
    expect((await t.request("/v1/notifications?unread=true", { headers: u.headers })).status).toBe(200);
    expect((await t.request("/v1/notifications?unread=false", { headers: u.headers })).status).toBe(200);
    const bad = await expectProblem(
      await t.request("/v1/notifications?unread=yes", { headers: u.headers }),
      400,
      "validation_failed",
    );
    expect(bad.errors?.[0]?.path).toBe("query.unread");
  });
});

describe("absolute URLs without PUBLIC_BASE_URL", () => {
  test("behind the trusted proxy, links use the origin the client called", async () => {
    const res = await t.request("/v1/species?limit=1", {
      headers: { "x-forwarded-proto": "https", "x-forwarded-host": "api.example.test" },
    });
    const page = SpeciesPageSchema.parse(await res.json());
    expect(page.links.self).toBe("https://api.example.test/v1/species?limit=1");
    expect(page.links.next).toStartWith("https://api.example.test/v1/species?limit=1&cursor=");
    expect(page.data[0]!.links.self).toStartWith("https://api.example.test/v1/species/");
  });

  test("without a trusted proxy the forwarded headers are ignored", async () => {
    const direct = await createTestApp({ TRUST_PROXY_HEADER: "" });
    try {
      const res = await direct.request("http://api.internal:8080/v1/species?limit=1", {
        headers: { "x-forwarded-proto": "https", "x-forwarded-host": "evil.example" },
      });
      expect(SpeciesPageSchema.parse(await res.json()).links.self).toBe(
        "http://api.internal:8080/v1/species?limit=1",
      );
    } finally {
      await direct.close();
    }
  });

  test("PUBLIC_BASE_URL, when set, wins", async () => {
    const configured = await createTestApp({ PUBLIC_BASE_URL: "https://api.plant.community" });
    try {
      const res = await configured.request("/v1/species?limit=1");
      expect(SpeciesPageSchema.parse(await res.json()).links.self).toBe(
        "https://api.plant.community/v1/species?limit=1",
      );
    } finally {
      await configured.close();
    }
  });
});
