import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app.ts";

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type Document = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Operation>>;
};

let t: TestApp;
let doc: Document;
beforeAll(async () => {
  t = await createTestApp();
  const res = await t.request("/v1/openapi.json");
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

describe("the OpenAPI document", () => {
  test("is OpenAPI 3.1 and lists the catalogue and probe routes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("Plant Community API");
    for (const path of ["/v1/species", "/v1/species/{id}", "/health", "/ready"])
      expect(doc.paths[path]).toBeDefined();
  });

  test("every operation has an id, a summary, a tag and declared security", () => {
    const ids = new Set<string>();
    for (const { op } of operations()) {
      expect(op.operationId).toBeString();
      expect(ids.has(op.operationId!)).toBe(false);
      ids.add(op.operationId!);
      expect(op.summary).toBeString();
      expect(op.tags?.length).toBeGreaterThan(0);
      expect(op.security).toBeArray();
    }
  });

  test("every /v1 operation documents its problem responses as application/problem+json", () => {
    for (const { path, op } of operations().filter((o) => o.path.startsWith("/v1/"))) {
      const problems = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      expect(problems.map(([s]) => s)).toContain("500");
      expect(problems.some(([s]) => s.startsWith("4"))).toBe(true);
      for (const [, response] of problems) {
        expect(Object.keys(response.content ?? {}), `${path}`).toEqual(["application/problem+json"]);
      }
    }
  });

  test("is served as the same bytes on every request", async () => {
    const a = await (await t.request("/v1/openapi.json")).text();
    const b = await (await t.request("/v1/openapi.json")).text();
    expect(a).toBe(b);
  });
});

describe("the API reference page", () => {
  test("is an HTML page that loads the reference bundle from our own origin", async () => {
    const res = await t.request("/v1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    const html = await res.text();
    expect(html).toContain("/v1/docs/scalar.js");
    expect(html).toContain("/v1/openapi.json");
    // Scripts run only with this answer's nonce (tests/e2e/csp-browser.test.ts shows it in a real browser).
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(html).toContain(`<script src="/v1/docs/scalar.js" nonce="${nonce}"></script>`);
    expect(html.match(/<script\b[^>]*>/g)?.every((tag) => tag.includes(`nonce="${nonce}"`))).toBe(true);
    expect(csp).toContain("report-uri /v1/security/csp-reports");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const again = (await t.request("/v1/docs")).headers.get("content-security-policy");
    expect(again).not.toContain(nonce!);
    const bundle = await t.request("/v1/docs/scalar.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toStartWith("text/javascript");
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
