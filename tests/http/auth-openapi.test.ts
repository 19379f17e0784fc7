import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

let t: TestApp;
let doc: {
  components: { securitySchemes: Record<string, Record<string, string>> };
  paths: Record<
    string,
    Record<string, { security?: Record<string, string[]>[]; responses: Record<string, unknown> }>
  >;
};
beforeAll(async () => {
  t = await createTestApp();
  doc = (await (await t.request("/v1/openapi.json")).json()) as typeof doc;
});
afterAll(() => t.close());

describe("the OpenAPI document", () => {
  test("declares the bearer JWT and X-API-Key schemes", () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "X-API-Key",
    });
  });

  test.each([
    ["/v1/me", "get", "account:read"],
    ["/v1/me", "patch", "account:write"],
    ["/v1/me", "delete", "account:write"],
    ["/v1/api-keys", "post", "account:write"],
    ["/v1/api-keys", "get", "account:read"],
    ["/v1/api-keys/{id}", "delete", "account:write"],
    ["/v1/admin/audit", "get", "admin"],
    ["/v1/admin/users/{id}", "patch", "admin"],
    ["/v1/species", "post", "species:write"],
    ["/v1/species/{id}", "patch", "species:write"],
  ])("%s %s lists its scope under both schemes and documents 401 and 403", (path, method, scope) => {
    const op = doc.paths[path]?.[method];
    expect(op?.security).toEqual([{ bearerAuth: [scope] }, { apiKeyAuth: [scope] }]);
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["401", "403", "429"]));
  });

  test.each([
    ["/v1/auth/register", "post"],
    ["/v1/auth/login", "post"],
    ["/v1/auth/refresh", "post"],
    ["/v1/auth/logout", "post"],
  ])("%s %s is public", (path, method) => {
    expect(doc.paths[path]?.[method]?.security).toEqual([]);
  });
});

describe("configuration", () => {
  test("production refuses to start without JWT_SECRET", () => {
    expect(() =>
      parseConfig({ NODE_ENV: "production", PUBLIC_BASE_URL: "https://api.example.test" }),
    ).toThrow(/JWT_SECRET/);
  });

  test("a short JWT_SECRET is refused; outside production a secret is generated", () => {
    expect(() => parseConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    expect(parseConfig({}).auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  test("rate limits are configurable as <limit>/<window>", () => {
    const c = parseConfig({ RATE_LIMIT_LOGIN_IP: "10/30m", RATE_LIMIT_DEFAULT: "100/1s" });
    expect(c.rateLimits.loginIp).toEqual({ limit: 10, windowSeconds: 1800 });
    expect(c.rateLimits.default).toEqual({ limit: 100, windowSeconds: 1 });
    expect(c.rateLimits.register).toEqual({ limit: 3, windowSeconds: 3600 });
    expect(() => parseConfig({ RATE_LIMIT_DEFAULT: "lots" })).toThrow(/RATE_LIMIT_DEFAULT/);
  });
});
