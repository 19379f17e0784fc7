import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, testIp, uniqueEmail } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
const clock = new FakeClock(Date.now());
beforeAll(async () => {
  // Cheap argon2: these tests make hundreds of sign-in attempts; the cost is not what they measure.
  // The per-IP sign-in limit (any account) is lifted: its own tests are in rate-limit.test.ts; here the throttle
  // per account answers alone.
  t = await createTestApp(
    { ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", RATE_LIMIT_LOGIN_IP: "100000/15m" },
    { clock },
  );
});
afterAll(() => t.close());

const login = (email: string, password: string, ip = testIp(), extra: Record<string, string> = {}) =>
  t.request("/v1/auth/login", jsonRequest("POST", { email, password, ...extra }, { "fly-client-ip": ip }));

const DAY_MS = 86_400_000;

/**
 * A patient attacker for one simulated day: guesses, and when refused waits exactly the Retry-After it was
 * given. Returns how many guesses were actually checked (answered 401).
 */
async function guessesInADay(email: string, nextIp: () => string): Promise<number> {
  const end = clock.now() + DAY_MS;
  let checked = 0;
  while (clock.now() < end) {
    const res = await login(email, `wrong guess ${checked}`, nextIp());
    if (res.status === 401) {
      checked += 1;
      continue;
    }
    expect(res.status).toBe(429);
    clock.advance(Number(res.headers.get("retry-after")) * 1000);
  }
  return checked;
}

describe("sign-in throttling cannot be turned against the owner (finding: anyone could lock any account)", () => {
  test("ten failures from two strangers' networks leave the owner's own sign-in untouched", async () => {
    const u = await registerUser(t);
    const [a, b] = [testIp(), testIp()];
    for (let i = 0; i < 5; i++) {
      await expectProblem(await login(u.email, "wrong password", a), 401, "invalid_credentials");
      await expectProblem(await login(u.email, "wrong password", b), 401, "invalid_credentials");
    }
    // Before: 429 account_locked with Retry-After 3600, even with the right password.
    const owner = await login(u.email, u.password);
    expect(owner.status).toBe(200);
    SessionSchema.parse(await owner.json());
    // The strangers' networks are the ones slowed down.
    const slowed = await login(u.email, "wrong password", a);
    await expectProblem(slowed, 429, "login_throttled");
    expect(slowed.headers.get("retry-after")).toBe("60");
  });

  test("delays from one network grow (1, 2, 4 ... minutes) instead of a lock; the right password afterwards clears them", async () => {
    const u = await registerUser(t);
    const ip = testIp();
    for (let i = 0; i < 5; i++)
      await expectProblem(await login(u.email, "wrong", ip), 401, "invalid_credentials");
    const waits: string[] = [];
    for (let i = 0; i < 4; i++) {
      const refused = await login(u.email, "wrong", ip);
      await expectProblem(refused, 429, "login_throttled");
      waits.push(refused.headers.get("retry-after")!);
      clock.advance(Number(refused.headers.get("retry-after")) * 1000);
      await expectProblem(await login(u.email, "wrong", ip), 401, "invalid_credentials");
    }
    expect(waits).toEqual(["60", "120", "240", "480"]);
    const refused = await login(u.email, u.password, ip);
    expect(refused.headers.get("retry-after")).toBe("960");
    clock.advance(960_000);
    expect((await login(u.email, u.password, ip)).status).toBe(200);
    // That network starts afresh after the right password.
    await expectProblem(await login(u.email, "wrong", ip), 401, "invalid_credentials");
  });

  test("from ONE network an attacker gets 33 guesses a day at one account", async () => {
    const u = await registerUser(t);
    const ip = testIp();
    const guesses = await guessesInADay(u.email, () => ip);
    // 5 free, then waits of 1, 2, 4, 8, 16, 32 minutes, then one an hour: 5 + 6 + 22.
    expect(guesses).toBe(33);
    // ... while the owner, on their own network, was never held up.
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  test("from MANY networks an attacker gets 118 guesses a day at one account", async () => {
    const u = await registerUser(t);
    const guesses = await guessesInADay(u.email, testIp);
    // 20 free, then waits of 1, 2, 4, 8 minutes, then one every 15 minutes: 20 + 4 + 94.
    expect(guesses).toBe(118);
  });

  test("while strangers slow an account down, the owner's device (its current refresh token) signs in at once", async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 20; i++) await login(u.email, "wrong password");
    const stranger = await login(u.email, u.password);
    await expectProblem(stranger, 429, "login_throttled");
    expect(Number(stranger.headers.get("retry-after"))).toBeGreaterThan(0);

    const device = await login(u.email, u.password, testIp(), { refreshToken: u.refreshToken });
    expect(device.status).toBe(200);
    SessionSchema.parse(await device.json());
    // A token of another account, or a used one, proves nothing.
    const other = await registerUser(t);
    await expectProblem(
      await login(u.email, u.password, testIp(), { refreshToken: other.refreshToken }),
      429,
      "login_throttled",
    );
  });

  test("a device's own bucket still slows password guessing with a stolen refresh token", async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 5; i++)
      await expectProblem(
        await login(u.email, "wrong", testIp(), { refreshToken: u.refreshToken }),
        401,
        "invalid_credentials",
      );
    await expectProblem(
      await login(u.email, "wrong", testIp(), { refreshToken: u.refreshToken }),
      429,
      "login_throttled",
    );
  });

  test("parallel guesses cannot slip past the throttle together", async () => {
    const u = await registerUser(t);
    const ip = testIp();
    const answers = await Promise.all(Array.from({ length: 12 }, () => login(u.email, "wrong", ip)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  test("an unknown address is throttled the same way, so throttling reveals nothing about who is registered", async () => {
    const known = await registerUser(t);
    const ghost = uniqueEmail("ghost");
    for (const email of [known.email, ghost]) {
      for (let i = 0; i < 20; i++)
        await expectProblem(await login(email, "wrong password"), 401, "invalid_credentials");
      const refused = await login(email, "wrong password");
      await expectProblem(refused, 429, "login_throttled");
      expect(refused.headers.get("retry-after")).toBe("60");
    }
  });
});
