import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AuditPageSchema } from "../../src/modules/audit/audit.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { createApiKey, ipHeader, jsonRequest, registerUser, type TestUser, testIp } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await registerUser(t, { role: "admin" });
});
afterAll(() => t.close());

async function audit(query: string, who = admin) {
  const res = await t.request(`/v1/admin/audit${query}`, { headers: who.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return AuditPageSchema.parse(await res.json());
}

describe("PATCH /v1/admin/users/{id}", () => {
  test("an admin makes a user premium; the change is audited with before and after", async () => {
    const u = await registerUser(t);
    const res = await t.request(
      `/v1/admin/users/${u.user.id}`,
      jsonRequest("PATCH", { role: "premium" }, admin.headers),
    );
    expect(res.status).toBe(200);
    expect(UserSchema.parse(await res.json()).role).toBe("premium");
    const page = await audit(`?action=user.role_change&entityId=${u.user.id}`);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]!.actor).toEqual({ type: "user", userId: admin.user.id, apiKeyId: null });
    expect(page.data[0]!.changes).toEqual({ before: { role: "user" }, after: { role: "premium" } });
  });

  test("a demoted admin loses admin scopes on the very next request", async () => {
    const other = await registerUser(t, { role: "admin" });
    expect((await t.request("/v1/admin/audit?limit=1", { headers: other.headers })).status).toBe(200);
    const res = await t.request(
      `/v1/admin/users/${other.user.id}`,
      jsonRequest("PATCH", { role: "user" }, admin.headers),
    );
    expect(res.status).toBe(200);
    await expectProblem(
      await t.request("/v1/admin/audit?limit=1", { headers: other.headers }),
      403,
      "insufficient_scope",
    );
  });

  test("an unknown user answers 404", async () => {
    const res = await t.request(
      `/v1/admin/users/${Bun.randomUUIDv7()}`,
      jsonRequest("PATCH", { role: "premium" }, admin.headers),
    );
    await expectProblem(res, 404, "not_found");
  });
});

describe("GET /v1/admin/audit", () => {
  test("filters by actor and action, newest first, and pages with the cursor", async () => {
    const u = await registerUser(t);
    const keys = [];
    const from = ipHeader(t, "192.0.2.44");
    for (let i = 0; i < 3; i++)
      keys.push(await createApiKey(t, u.accessToken, ["account:read"], { name: `k${i}`, headers: from }));
    const first = await audit(`?actorId=${u.user.id}&action=api_key.create&limit=2`);
    expect(first.data.map((e) => e.entity.id)).toEqual([keys[2]!.id, keys[1]!.id]);
    expect(first.data[0]!.ip).toBe("192.0.2.44");
    expect(first.data[0]!.requestId).toBeString();
    expect(first.links.next).toContain("cursor=");
    const second = await audit(first.links.next!.replace("http://localhost/v1/admin/audit", ""));
    expect(second.data.map((e) => e.entity.id)).toEqual([keys[0]!.id]);
    expect(second.nextCursor).toBeNull();
    expect(JSON.stringify([first, second])).not.toContain(keys[0]!.key);
  });

  test("records the API key as the actor when a key made the change", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:write"]);
    const res = await t.request("/v1/me", jsonRequest("PATCH", { displayName: "Via key" }, key.headers));
    expect(res.status).toBe(200);
    const page = await audit(`?entityType=user&entityId=${u.user.id}&action=user.update`);
    expect(page.data[0]!.actor).toEqual({ type: "api_key", userId: u.user.id, apiKeyId: key.id });
  });

  test("filters by time range", async () => {
    const u = await registerUser(t);
    const all = await audit(`?actorId=${u.user.id}`);
    const at = all.data[0]!.createdAt;
    expect((await audit(`?actorId=${u.user.id}&from=${encodeURIComponent(at)}`)).data).toHaveLength(
      all.data.length,
    );
    expect((await audit(`?actorId=${u.user.id}&to=${encodeURIComponent(at)}`)).data).toHaveLength(0);
    await expectProblem(
      await t.request(`/v1/admin/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, {
        headers: admin.headers,
      }),
      400,
      "validation_failed",
    );
  });

  test("never stores passwords or tokens in the changes", async () => {
    const ip = ipHeader(t, testIp());
    const email = `audit-${crypto.randomUUID()}@example.test`;
    const res = await t.request(
      "/v1/auth/register",
      jsonRequest(
        "POST",
        {
          email,
          password: "secret horse battery",
          displayName: "S",
        },
        ip,
      ),
    );
    expect(res.status).toBe(202);
    const login = await t.request(
      "/v1/auth/login",
      jsonRequest("POST", { email, password: "secret horse battery" }, ip),
    );
    const body = (await login.json()) as { user: { id: string }; refreshToken: string; accessToken: string };
    // Another client's write: the admin's read may come from a replica that has not replayed it yet.
    const page = await waitFor(
      async () => {
        const p = await audit(`?entityId=${body.user.id}`);
        return p.data.length > 0 ? p : undefined;
      },
      { what: "the registration's audit entry" },
    );
    const text = JSON.stringify(page);
    for (const secret of ["secret horse battery", body.refreshToken, body.accessToken, "argon2"])
      expect(text).not.toContain(secret);
  });
});

describeProtectedRoute(() => t, "GET /v1/admin/audit", {
  method: "GET",
  path: () => "/v1/admin/audit",
  scope: "admin",
  role: "admin",
});
describeProtectedRoute(() => t, "PATCH /v1/admin/users/{id}", {
  method: "PATCH",
  path: async () => `/v1/admin/users/${(await registerUser(t)).user.id}`,
  scope: "admin",
  role: "admin",
  init: () => ({
    body: JSON.stringify({ role: "premium" }),
    headers: { "content-type": "application/json" },
  }),
});
