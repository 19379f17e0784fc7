import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../src/infra/logger.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { createApiKey, jsonRequest, registerUser, testIp, uniqueEmail } from "../helpers/auth.ts";

let t: TestApp;
const lines: string[] = [];
beforeAll(async () => {
  const logger = createLogger("debug", { write: (s: string) => void lines.push(s) } as never);
  t = await createTestApp({ LOG_LEVEL: "debug" }, { logger });
});
afterAll(() => t.close());

test("logs never contain passwords, tokens, API key secrets or full email addresses", async () => {
  const u = await registerUser(t, { role: "admin" });
  const key = await createApiKey(t, u.accessToken, ["account:read"]);
  const ip = { "fly-client-ip": testIp() };
  await t.request(
    "/v1/auth/login",
    jsonRequest("POST", { email: u.email, password: "a wrong password" }, ip),
  );
  await t.request(
    "/v1/auth/login",
    jsonRequest("POST", { email: uniqueEmail("ghost"), password: "another wrong one" }, ip),
  );
  await t.request("/v1/me", { headers: key.headers });
  await t.request("/v1/me", { headers: { authorization: `Bearer ${u.accessToken}x` } });
  const refreshed = await t.request(
    "/v1/auth/refresh",
    jsonRequest("POST", { refreshToken: u.refreshToken }, ip),
  );
  expect(refreshed.status).toBe(200);
  await t.request("/v1/auth/refresh", jsonRequest("POST", { refreshToken: u.refreshToken }, ip)); // reuse, logged

  const text = lines.join("");
  expect(text).toContain("login failed");
  expect(text).toContain("refresh token reused");
  for (const secret of [u.password, "a wrong password", u.accessToken, u.refreshToken, key.key, u.email]) {
    expect(text).not.toContain(secret);
  }
  expect(text).toContain(`${u.email.slice(0, 1)}***@example.test`);
});
