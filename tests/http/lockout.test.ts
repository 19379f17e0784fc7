import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, testIp, uniqueEmail } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
const clock = new FakeClock(Date.now());
beforeAll(async () => {
  t = await createTestApp({}, { clock });
});
afterAll(() => t.close());

// Each attempt from a new IP: the lockout is per account, whatever the IPs.
const login = (email: string, password: string) =>
  t.request("/v1/auth/login", jsonRequest("POST", { email, password }, { "fly-client-ip": testIp() }));

describe("account lockout", () => {
  test("10 failed sign-ins within 15 minutes lock the account for an hour; a good login afterwards clears it", async () => {
    const u = await registerUser(t);
    // 5 wrong passwords, then the per-email limit (5 per 15 min) refuses; refusals count as failures too.
    for (let i = 0; i < 5; i++)
      await expectProblem(await login(u.email, "wrong password"), 401, "invalid_credentials");
    for (let i = 0; i < 5; i++)
      await expectProblem(await login(u.email, "wrong password"), 429, "rate_limited");

    const locked = await login(u.email, u.password);
    await expectProblem(locked, 429, "account_locked");
    expect(locked.headers.get("retry-after")).toBe("3600");

    clock.advance(30 * 60_000);
    const stillLocked = await login(u.email, u.password);
    await expectProblem(stillLocked, 429, "account_locked");
    expect(stillLocked.headers.get("retry-after")).toBe("1800");

    clock.advance(30 * 60_000);
    const ok = await login(u.email, u.password);
    expect(ok.status).toBe(200);
    SessionSchema.parse(await ok.json());

    // The counter was cleared: one more failure is just a failure, not a lock.
    await expectProblem(await login(u.email, "wrong password"), 401, "invalid_credentials");
    expect((await login(u.email, u.password)).status).toBe(200);

    const audit = await t.deps.db.primary
      .selectFrom("audit_log")
      .select("changes")
      .where("action", "=", "auth.account_locked")
      .execute();
    expect(audit.some((a) => JSON.stringify(a.changes).includes(u.email.slice(0, 1)))).toBe(true);
  });

  test("failures spread over more than 15 minutes do not lock", async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 12; i++) {
      await expectProblem(await login(u.email, "wrong password"), 401, "invalid_credentials");
      clock.advance(4 * 60_000); // at most 4 failures in any 15 minutes, under both limits
    }
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  test("an unknown address locks the same way, so a lock reveals nothing about who is registered", async () => {
    const email = uniqueEmail("ghost");
    for (let i = 0; i < 10; i++) expect((await login(email, "wrong password")).status).toBeOneOf([401, 429]);
    await expectProblem(await login(email, "wrong password"), 429, "account_locked");
  });
});
