import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createApiKey, ipHeader, jsonRequest, registerUser, testIp } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("GET /v1/me", () => {
  test("answers the signed-in account, also through an API key with account:read", async () => {
    const u = await registerUser(t);
    const res = await t.request("/v1/me", { headers: u.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const me = UserSchema.parse(await res.json());
    // The same account as the session's; /v1/me also links its collections and actions (tests/http/links.test.ts).
    expect({ ...me, links: { self: me.links.self } }).toEqual(u.user);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    const viaKey = await t.request("/v1/me", { headers: key.headers });
    expect(UserSchema.parse(await viaKey.json()).id).toBe(u.user.id);
  });
});

describe("PATCH /v1/me", () => {
  test("changes the display name and merges preferences, a null removing a key, with an audit record", async () => {
    const u = await registerUser(t);
    const first = await t.request(
      "/v1/me",
      jsonRequest("PATCH", { preferences: { units: "metric", language: "en" } }, u.headers),
    );
    expect(first.status).toBe(200);
    const res = await t.request(
      "/v1/me",
      jsonRequest(
        "PATCH",
        { displayName: "Grace", preferences: { language: null, theme: "dark" } },
        u.headers,
      ),
    );
    expect(res.status).toBe(200);
    const me = UserSchema.parse(await res.json());
    expect(me.displayName).toBe("Grace");
    expect(me.preferences).toEqual({ units: "metric", theme: "dark" });
    const row = await t.deps.db.primary
      .selectFrom("users")
      .select(["display_name", "preferences"])
      .where("id", "=", u.user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ display_name: "Grace", preferences: { units: "metric", theme: "dark" } });
    const audits = await t.deps.db.primary
      .selectFrom("audit_log")
      .select("changes")
      .where("entity_id", "=", u.user.id)
      .where("action", "=", "user.update")
      .orderBy("id")
      .execute();
    expect(audits).toHaveLength(2);
    expect(audits[1]!.changes).toEqual({
      before: { displayName: "Test User", preferences: { units: "metric", language: "en" } },
      after: { displayName: "Grace", preferences: { units: "metric", theme: "dark" } },
    });
  });

  test("an email or role in the body is refused, not silently ignored", async () => {
    const u = await registerUser(t);
    await expectProblem(
      await t.request("/v1/me", jsonRequest("PATCH", { role: "admin" }, u.headers)),
      400,
      "validation_failed",
    );
  });
});

describe("DELETE /v1/me", () => {
  test("a deleted user can no longer call anything, and the email can register again", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    const del = await t.request("/v1/me", { method: "DELETE", headers: u.headers });
    expect(del.status).toBe(204);

    await expectProblem(await t.request("/v1/me", { headers: u.headers }), 401, "invalid_token");
    await expectProblem(await t.request("/v1/me", { headers: key.headers }), 401, "invalid_token");
    // The public catalogue ignores the stale token and serves the caller anonymously.
    expect((await t.request("/v1/species", { headers: u.headers })).status).toBe(200);
    const ip = ipHeader(t, testIp());
    await expectProblem(
      await t.request("/v1/auth/refresh", jsonRequest("POST", { refreshToken: u.refreshToken }, ip)),
      401,
      "invalid_refresh_token",
    );
    await expectProblem(
      await t.request("/v1/auth/login", jsonRequest("POST", { email: u.email, password: u.password }, ip)),
      401,
      "invalid_credentials",
    );

    const row = await t.deps.db.primary
      .selectFrom("users")
      .select("deleted_at")
      .where("id", "=", u.user.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    const live = await t.deps.db.primary
      .selectFrom("api_keys")
      .select("id")
      .where("user_id", "=", u.user.id)
      .where("revoked_at", "is", null)
      .execute();
    expect(live).toHaveLength(0);

    const again = await t.request(
      "/v1/auth/register",
      jsonRequest("POST", { email: u.email, password: "a brand new password", displayName: "Again" }, ip),
    );
    expect(again.status).toBe(202);
    const login = await t.request(
      "/v1/auth/login",
      jsonRequest("POST", { email: u.email, password: "a brand new password" }, ip),
    );
    expect(login.status).toBe(200);
    expect(SessionSchema.parse(await login.json()).user.id).not.toBe(u.user.id);
  });
});

describeProtectedRoute(() => t, "GET /v1/me", { method: "GET", path: () => "/v1/me", scope: "account:read" });
describeProtectedRoute(() => t, "PATCH /v1/me", {
  method: "PATCH",
  path: () => "/v1/me",
  scope: "account:write",
  init: () => ({
    body: JSON.stringify({ displayName: "X" }),
    headers: { "content-type": "application/json" },
  }),
});
describeProtectedRoute(() => t, "DELETE /v1/me", {
  method: "DELETE",
  path: () => "/v1/me",
  scope: "account:write",
});
