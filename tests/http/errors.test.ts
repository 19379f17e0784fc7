import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/app.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ MAX_BODY_BYTES: "2048" });
});
afterAll(() => t.close());

describe("errors are problem documents", () => {
  test("an unknown route is a 404 problem naming the path", async () => {
    const problem = await expectProblem(await t.request("/v1/no-such-thing"), 404, "route_not_found");
    expect(problem.instance).toBe("/v1/no-such-thing");
    expect(problem.type).toBe("https://plant.community/problems/route-not-found");
  });

  test("a wrong method is a 405 problem with an Allow header", async () => {
    const res = await t.request("/v1/species", { method: "PUT" });
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    await expectProblem(res, 405, "method_not_allowed");
  });

  test("a body over the limit is refused with 413 before it is read", async () => {
    const res = await t.request("/v1/species", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "4096" },
      body: "x".repeat(4096),
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  test("a body in a media type the API does not speak is refused with 415", async () => {
    const res = await t.request("/v1/species", {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<species/>",
    });
    const problem = await expectProblem(res, 415, "unsupported_media_type");
    expect(problem.detail).toContain("application/json");
  });

  test("a 500 never shows the internal message or stack", async () => {
    const { app } = createApp(t.deps);
    app.get("/v1/__explode", () => {
      throw new Error("secret: connection string postgres://admin:hunter2@db");
    });
    const res = await app.request("/v1/__explode");
    const problem = await expectProblem(res, 500, "internal_error");
    const text = JSON.stringify(problem);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
    expect(problem.detail).toBe("An unexpected error occurred");
  });

  test("an unreachable primary database is a retryable 503 that names nothing internal", async () => {
    const down = await createTestApp({
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
      DATABASE_REPLICA_URL: "",
    });
    try {
      const res = await down.request("/v1/species");
      expect(res.headers.get("retry-after")).toBe("5");
      const problem = await expectProblem(res, 503, "service_unavailable");
      expect(JSON.stringify(problem)).not.toContain("ECONNREFUSED");
    } finally {
      await down.close();
    }
  });
});

describe("every response carries identification and security headers", () => {
  test("a sane client request id is echoed back", async () => {
    const res = await t.request("/health", { headers: { "x-request-id": "client-req-12345" } });
    expect(res.headers.get("x-request-id")).toBe("client-req-12345");
  });

  test("an unsafe client request id is replaced by a fresh one", async () => {
    const res = await t.request("/health", { headers: { "x-request-id": "bad id\twith spaces" } });
    const id = res.headers.get("x-request-id")!;
    expect(id).not.toContain(" ");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("security headers are set on success and on error", async () => {
    for (const path of ["/health", "/v1/nothing-here"]) {
      const res = await t.request(path);
      expect(res.headers.get("strict-transport-security")).toStartWith("max-age=");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });
});

describe("legacy unversioned paths", () => {
  test("/api/... answers 308 to /v1/... with deprecation headers", async () => {
    const res = await t.request("/api/species?q=fig");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/v1/species?q=fig");
    expect(res.headers.get("deprecation")).toMatch(/^@\d+$/);
    expect(res.headers.get("sunset")).toBe(t.config.http.legacySunset.toUTCString());
    expect(res.headers.get("link")).toBe('</v1/species?q=fig>; rel="successor-version"');
  });

  test("/api/v1/... answers 308 to the same /v1/... path, method kept", async () => {
    const res = await t.request("/api/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab", { method: "POST" });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab");
  });
});
