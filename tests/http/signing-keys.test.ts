import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeProtectedHeader, SignJWT } from "jose";
import { ROLE_SCOPES } from "../../src/http/scopes.ts";
import { signAccessToken } from "../../src/modules/auth/access-token.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { bearer, jsonRequest, registerUser, type TestUser, testIp } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { freePort } from "../helpers/servers/free-port.ts";

const OLD = `old-secret-${"o".repeat(32)}`;
const NEW = `new-secret-${"n".repeat(32)}`;

const apps: TestApp[] = [];
// The instances of one deployment share Redis (one key prefix), as before and after a rolling restart: a
// write made through one is read back from the primary through the others (read-your-writes markers).
const REDIS_KEY_PREFIX = `test:${crypto.randomUUID()}:`;
async function app(env: Record<string, string>) {
  const a = await createTestApp({ REDIS_KEY_PREFIX, ...env });
  apps.push(a);
  return a;
}
afterAll(() => Promise.all(apps.map((a) => a.close())));

let before: TestApp;
let u: TestUser;
beforeAll(async () => {
  before = await app({ JWT_SECRET: OLD });
  u = await registerUser(before);
});

describe("signing keys by kid (finding: no rotation without signing everyone out)", () => {
  test("after rotation, tokens signed with the previous secret still work and new ones carry the new key's id", async () => {
    const rotated = await app({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRETS: OLD });
    const me = await rotated.request("/v1/me", { headers: u.headers });
    expect(me.status).toBe(200);
    UserSchema.parse(await me.json());

    const login = await rotated.request(
      "/v1/auth/login",
      jsonRequest("POST", { email: u.email, password: u.password }, { "fly-client-ip": testIp() }),
    );
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const oldKid = decodeProtectedHeader(u.accessToken).kid;
    const newKid = decodeProtectedHeader(accessToken).kid;
    expect(oldKid).toBeString();
    expect(newKid).toBeString();
    expect(newKid).not.toBe(oldKid);
    // The old deployment (not yet rolled) cannot read the new key's tokens: kids are not guessed across keys.
    await expectProblem(
      await before.request("/v1/me", { headers: bearer(accessToken) }),
      401,
      "invalid_token",
    );
  });

  test("once the previous secret is retired, its tokens are refused", async () => {
    const retired = await app({ JWT_SECRET: NEW });
    await expectProblem(await retired.request("/v1/me", { headers: u.headers }), 401, "invalid_token");
  });

  test("a token from before keys had ids (no kid) is checked against every configured key", async () => {
    const rotated = await app({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRETS: OLD });
    const now = Math.floor(Date.now() / 1000);
    const legacy = await new SignJWT({
      role: "user",
      scope: ROLE_SCOPES.user.join(" "),
      sid: crypto.randomUUID(),
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(u.user.id)
      .setIssuer("plant-community-api")
      .setAudience("plant-community")
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(OLD));
    expect((await rotated.request("/v1/me", { headers: bearer(legacy) })).status).toBe(200);
  });
});

describe("revocation checks while Redis is down: open for ordinary routes, closed for admin and account changes", () => {
  test("a signed-out session's token reads /v1/me, but cannot create API keys, change the account or act as admin", async () => {
    const admin = await registerUser(before, { role: "admin" });
    // Sign the admin's session out while Redis is up: the revocation is recorded there.
    const logout = await before.request(
      "/v1/auth/logout",
      jsonRequest("POST", { refreshToken: admin.refreshToken }, { "fly-client-ip": testIp() }),
    );
    expect(logout.status).toBe(204);
    await expectProblem(await before.request("/v1/me", { headers: admin.headers }), 401, "invalid_token");

    const port = await freePort();
    // Nothing listens on the port: Redis is down for this app (its keys need no clean-up, so deps.close()).
    const outage = await createTestApp({
      JWT_SECRET: OLD,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_COMMAND_TIMEOUT_MS: "200",
    });
    try {
      // Fail open (documented): the token lives 15 minutes and the account's own state is still checked.
      expect((await outage.request("/v1/me", { headers: admin.headers })).status).toBe(200);
      for (const [method, path, body] of [
        ["POST", "/v1/api-keys", { name: "stolen", scopes: ["species:read"] }],
        ["PATCH", "/v1/me", { displayName: "Mallory" }],
        ["GET", "/v1/admin/audit", undefined],
      ] as const) {
        const res = await outage.request(
          path,
          body ? jsonRequest(method, body, admin.headers) : { headers: admin.headers },
        );
        const problem = await expectProblem(res, 503, "service_unavailable");
        expect(res.headers.get("retry-after")).toBe("5");
        expect(problem.detail).not.toContain("redis");
      }
      const keys = await before.deps.db.primary
        .selectFrom("api_keys")
        .select("id")
        .where("user_id", "=", admin.user.id)
        .execute();
      expect(keys).toHaveLength(0);
    } finally {
      await outage.deps.close();
    }
  });

  test("a token signed with a key the API does not hold is refused, whatever its claims", async () => {
    const forged = await signAccessToken(
      `another-secret-${"x".repeat(32)}`,
      { userId: u.user.id, role: "admin", scopes: ["admin"], sessionId: crypto.randomUUID() },
      { ttlSeconds: 600, nowMs: Date.now() },
    );
    await expectProblem(
      await before.request("/v1/admin/audit", { headers: bearer(forged) }),
      401,
      "invalid_token",
    );
  });
});
