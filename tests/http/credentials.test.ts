import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  bearer,
  createApiKey,
  expiredAccessToken,
  ipHeader,
  jsonRequest,
  registerUser,
  type TestUser,
  tamperedToken,
  testIp,
  uniqueEmail,
} from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

// Issue #12: apps attach their token to every request; generators fill every security scheme at once.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: unknown, headers: Record<string, string>) =>
  t.request(path, jsonRequest("POST", body, { ...ipHeader(t, testIp()), ...headers }));

/** An access token whose session was signed out: revoked, though its lifetime is not over. */
async function revokedToken(): Promise<{ user: TestUser; token: string }> {
  const user = await registerUser(t);
  expect((await post("/v1/auth/logout", { refreshToken: user.refreshToken }, {})).status).toBe(204);
  return { user, token: user.accessToken };
}

describe("a public operation ignores whatever credential came", () => {
  test("with an expired access token attached, refresh answers new tokens and logout revokes the session", async () => {
    const u = await registerUser(t);
    const stale = bearer(await expiredAccessToken(t, u));
    const refreshed = await post("/v1/auth/refresh", { refreshToken: u.refreshToken }, stale);
    expect(refreshed.status).toBe(200);
    const session = SessionSchema.parse(await refreshed.json());
    expect(session.user.id).toBe(u.user.id);

    expect((await post("/v1/auth/logout", { refreshToken: session.refreshToken }, stale)).status).toBe(204);
    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: session.refreshToken }, {}),
      401,
      "invalid_refresh_token",
    );
  });

  test("with a revoked access token attached, login and register work", async () => {
    const { user, token } = await revokedToken();
    const login = await post("/v1/auth/login", { email: user.email, password: user.password }, bearer(token));
    expect(login.status).toBe(200);
    expect(SessionSchema.parse(await login.json()).user.id).toBe(user.user.id);
    const register = await post(
      "/v1/auth/register",
      { email: uniqueEmail(), password: "a long enough password", displayName: "New" },
      bearer(token),
    );
    expect(register.status).toBe(202);
  });

  test.each([["/v1/species?limit=1"], ["/v1/providers"], ["/v1/openapi.json"]])(
    "GET %s answers 200 with a tampered token, a revoked token and a malformed header",
    async (path) => {
      const u = await registerUser(t);
      const { token } = await revokedToken();
      for (const headers of [
        bearer(tamperedToken(u.accessToken)),
        bearer(token),
        { authorization: "Basic dXNlcjpwYXNz" },
        { "x-api-key": "pc_live_not-a-key" },
      ]) {
        const res = await t.request(path, { headers });
        expect(res.status).toBe(200);
      }
    },
  );

  test("the catalogue served to a stale token is the anonymous answer", async () => {
    const u = await registerUser(t);
    const res = await t.request("/v1/species?limit=2", { headers: bearer(await expiredAccessToken(t, u)) });
    expect(res.status).toBe(200);
    expect(SpeciesPageSchema.parse(await res.json()).data.length).toBeGreaterThan(0);
  });
});

describe("a protected operation refuses a bad credential, telling refresh from sign in again", () => {
  test("an expired token: 401 token_expired with an RFC 6750 invalid_token challenge", async () => {
    const u = await registerUser(t);
    const res = await t.request("/v1/me", { headers: bearer(await expiredAccessToken(t, u)) });
    await expectProblem(res, 401, "token_expired");
    expect(res.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="plant-community", error="invalid_token"/,
    );
  });

  test("a revoked token: 401 invalid_token with the same challenge", async () => {
    const { token } = await revokedToken();
    const res = await t.request("/v1/me", { headers: bearer(token) });
    await expectProblem(res, 401, "invalid_token");
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  test("a malformed Authorization header: 401 invalid_token", async () => {
    await expectProblem(
      await t.request("/v1/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } }),
      401,
      "invalid_token",
    );
  });

  test("no credential at all: 401 unauthenticated with a plain challenge", async () => {
    const res = await t.request("/v1/me");
    await expectProblem(res, 401, "unauthenticated");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="plant-community"');
  });
});

describe("both a bearer token and X-API-Key: the bearer wins, the key is ignored", () => {
  test("the access token sent in both headers (what generated clients do) is accepted", async () => {
    const u = await registerUser(t);
    const res = await t.request("/v1/me", { headers: { ...u.headers, "x-api-key": u.accessToken } });
    expect(res.status).toBe(200);
    expect(UserSchema.parse(await res.json()).id).toBe(u.user.id);
  });

  test("a valid bearer beside another user's valid key acts as the bearer's user", async () => {
    const u = await registerUser(t);
    const other = await registerUser(t);
    const key = await createApiKey(t, other.accessToken, ["account:read"]);
    const res = await t.request("/v1/me", { headers: { ...u.headers, ...key.headers } });
    expect(res.status).toBe(200);
    expect(UserSchema.parse(await res.json()).id).toBe(u.user.id);
  });

  test("an expired bearer beside a valid key is refused: the key does not rescue it", async () => {
    const u = await registerUser(t);
    const key = await createApiKey(t, u.accessToken, ["account:read"]);
    const res = await t.request("/v1/me", {
      headers: { ...bearer(await expiredAccessToken(t, u)), ...key.headers },
    });
    await expectProblem(res, 401, "token_expired");
  });
});
