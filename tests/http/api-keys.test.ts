import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ApiKeyPageSchema,
  ApiKeySchema,
  CreatedApiKeySchema,
} from "../../src/modules/api-keys/api-keys.schemas.ts";
import { sha256Hex } from "../../src/modules/auth/secrets.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createApiKey, jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function list(u: TestUser, query = "") {
  const res = await t.request(`/v1/api-keys${query}`, { headers: u.headers });
  expect(res.status).toBe(200);
  return ApiKeyPageSchema.parse(await res.json());
}

describe("POST /v1/api-keys", () => {
  test("shows the pc_live_ secret once and stores only its hash", async () => {
    const u = await registerUser(t);
    const res = await t.request(
      "/v1/api-keys",
      jsonRequest("POST", { name: "kiosk", scopes: ["species:read", "identifications:write"] }, u.headers),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const created = CreatedApiKeySchema.parse(await res.json());
    expect(created.key).toMatch(/^pc_live_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(res.headers.get("location")).toBe(`http://localhost/v1/api-keys/${created.id}`);

    const row = await t.deps.db.primary
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256Hex(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key);

    const page = await list(u);
    expect(page.data.map((k) => k.id)).toEqual([created.id]);
    expect(JSON.stringify(page)).not.toContain(created.key);
    expect(page.data[0]).not.toHaveProperty("key");
  });

  test("the key authenticates with exactly its scopes", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    expect((await t.request("/v1/me", { headers: key.headers })).status).toBe(200);
    const body = await expectProblem(
      await t.request("/v1/me", jsonRequest("PATCH", { displayName: "no" }, key.headers)),
      403,
      "insufficient_scope",
    );
    expect(body.detail).toContain("account:write");
  });

  test("a key cannot carry a scope its creator lacks", async () => {
    const u = await registerUser(t);
    const res = await t.request(
      "/v1/api-keys",
      jsonRequest("POST", { name: "sneaky", scopes: ["admin"] }, u.headers),
    );
    const body = await expectProblem(res, 403, "insufficient_scope");
    expect(body.detail).toContain("admin");
  });

  test("an expired key is refused, and an expiry in the past is a validation error", async () => {
    const u = await registerUser(t);
    await expectProblem(
      await t.request(
        "/v1/api-keys",
        jsonRequest(
          "POST",
          { name: "old", scopes: ["account:read"], expiresAt: "2020-01-01T00:00:00Z" },
          u.headers,
        ),
      ),
      400,
      "validation_failed",
    );
    const key = await createApiKey(t, u.accessToken, ["account:read"], {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await t.deps.db.primary
      .updateTable("api_keys")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", key.id)
      .execute();
    await t.deps.cache.del("auth-key", sha256Hex(key.key));
    const res = await t.request("/v1/me", { headers: key.headers });
    const body = await expectProblem(res, 401, "invalid_token");
    expect(body.detail).toContain("expired");
  });

  test("a malformed key answers 401 without touching the database", async () => {
    await expectProblem(
      await t.request("/v1/me", { headers: { "x-api-key": "pc_live_short" } }),
      401,
      "invalid_token",
    );
  });
});

describe("GET /v1/api-keys", () => {
  test("lists only the caller's live keys, newest first, across pages", async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    await createApiKey(t, other.accessToken, ["account:read"]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await createApiKey(t, u.accessToken, ["account:read"], { name: `k${i}` })).id);
    const first = await list(u, "?limit=2");
    expect(first.data.map((k) => k.id)).toEqual([ids[2]!, ids[1]!]);
    expect(first.links.next).toBe(`http://localhost/v1/api-keys?limit=2&cursor=${first.nextCursor}`);
    const second = await list(u, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((k) => k.id)).toEqual([ids[0]!]);
    expect(second.nextCursor).toBeNull();
  });
});

describe("GET /v1/api-keys/{id}", () => {
  test("the Location of a created key answers with that key, without its secret", async () => {
    const u = await registerUser(t);
    const res = await t.request(
      "/v1/api-keys",
      jsonRequest("POST", { name: "kiosk", scopes: ["species:read"] }, u.headers),
    );
    expect(res.status).toBe(201);
    const { key: secret, ...created } = CreatedApiKeySchema.parse(await res.json());
    const location = res.headers.get("location") as string;
    expect(created.links.self).toBe(location);

    const got = await t.request(location, { headers: u.headers });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toStartWith("application/json");
    const body = await got.json();
    expect(ApiKeySchema.parse(body)).toEqual(created);
    expect(JSON.stringify(body)).not.toContain(secret);
  });

  test("a revoked key answers 404", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    const del = await t.request(`/v1/api-keys/${key.id}`, { method: "DELETE", headers: u.headers });
    expect(del.status).toBe(204);
    await expectProblem(await t.request(`/v1/api-keys/${key.id}`, { headers: u.headers }), 404, "not_found");
  });
});

describe("DELETE /v1/api-keys/{id}", () => {
  test("revokes the key at once and records it in the audit log", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    expect((await t.request("/v1/me", { headers: key.headers })).status).toBe(200);
    const res = await t.request(`/v1/api-keys/${key.id}`, { method: "DELETE", headers: u.headers });
    expect(res.status).toBe(204);
    await expectProblem(await t.request("/v1/me", { headers: key.headers }), 401, "invalid_token");
    expect((await list(u)).data).toHaveLength(0);
    const audit = await t.deps.db.primary
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", key.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["api_key.create", "api_key.revoke"]);
    await expectProblem(
      await t.request(`/v1/api-keys/${key.id}`, { method: "DELETE", headers: u.headers }),
      404,
      "not_found",
    );
  });
});

const json = (body: unknown) => ({
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

describeProtectedRoute(() => t, "POST /v1/api-keys", {
  method: "POST",
  path: () => "/v1/api-keys",
  scope: "account:write",
  init: () => json({ name: "x", scopes: ["account:read"] }),
});
describeProtectedRoute(() => t, "GET /v1/api-keys", {
  method: "GET",
  path: () => "/v1/api-keys",
  scope: "account:read",
});
describeProtectedRoute(() => t, "GET /v1/api-keys/{id}", {
  method: "GET",
  path: async ({ app, caller }) =>
    `/v1/api-keys/${(await createApiKey(app, caller.accessToken, ["species:read"])).id}`,
  scope: "account:read",
  foreignResource: async (app, owner) =>
    `/v1/api-keys/${(await createApiKey(app, owner.accessToken, ["species:read"])).id}`,
});
describeProtectedRoute(() => t, "DELETE /v1/api-keys/{id}", {
  method: "DELETE",
  path: async ({ app, caller }) =>
    `/v1/api-keys/${(await createApiKey(app, caller.accessToken, ["account:read"])).id}`,
  scope: "account:write",
  foreignResource: async (app, owner) =>
    `/v1/api-keys/${(await createApiKey(app, owner.accessToken, ["account:read"])).id}`,
});
