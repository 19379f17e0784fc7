import { afterAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { createLogger } from "../../src/infra/logger.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, uniqueEmail } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

const apps: TestApp[] = [];
afterAll(() => Promise.all(apps.map((a) => a.close())));
async function app(env: Record<string, string> = {}, clock?: FakeClock) {
  const a = await createTestApp(env, clock ? { clock } : {});
  apps.push(a);
  return a;
}

const HOUR = 3_600_000;

describe("rate limits", () => {
  test("every limited answer carries RateLimit-Policy and RateLimit in the IETF draft format", async () => {
    const t = await app();
    const res = await t.request("/v1/species?limit=1", { headers: { "fly-client-ip": "203.0.113.5" } });
    expect(res.status).toBe(200);
    SpeciesPageSchema.parse(await res.json());
    expect(res.headers.get("ratelimit-policy")).toBe('"default";q=600;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/^"default";r=599;t=\d+$/);
    const missing = await t.request(`/v1/species/${Bun.randomUUIDv7()}`, {
      headers: { "fly-client-ip": "203.0.113.5" },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("ratelimit")).toMatch(/^"default";r=599;t=\d+$/);
  });

  test("register: the 4th in an hour from one IP is refused with 429 and a Retry-After accurate to the window", async () => {
    const clock = new FakeClock(500_000 * HOUR + 10 * 60_000); // 10 minutes into an hour window
    const t = await app({}, clock);
    const ip = { "fly-client-ip": "203.0.113.9" };
    const register = () =>
      t.request(
        "/v1/auth/register",
        jsonRequest(
          "POST",
          { email: uniqueEmail(), password: "a long enough password", displayName: "R" },
          ip,
        ),
      );
    for (let i = 0; i < 3; i++) expect((await register()).status).toBe(202);
    const refused = await register();
    await expectProblem(refused, 429, "rate_limited");
    // 3 used this window: room for one when the sliding estimate 3 * (1 - e/60) <= 2, i.e. 20 min into the next
    // window: 50 + 20 minutes from now.
    expect(refused.headers.get("retry-after")).toBe("4200");
    expect(refused.headers.get("ratelimit-policy")).toBe('"register";q=3;w=3600');
    expect(refused.headers.get("ratelimit")).toBe('"register";r=0;t=4200');

    clock.advance(4_199_000);
    await expectProblem(await register(), 429, "rate_limited");
    clock.advance(1_000);
    expect((await register()).status).toBe(202);
  });

  test("IPv6 clients in one /64 share a budget; another /64 has its own", async () => {
    const t = await app({ RATE_LIMIT_DEFAULT: "2/1m" });
    const get = (ip: string) => t.request("/v1/species?limit=1", { headers: { "fly-client-ip": ip } });
    expect((await get("2001:db8:1:2::1")).status).toBe(200);
    expect((await get("2001:db8:1:2:ffff::9")).status).toBe(200);
    await expectProblem(await get("2001:db8:1:2:abcd::5"), 429, "rate_limited");
    expect((await get("2001:db8:1:3::1")).status).toBe(200);
  });

  test("limits are per endpoint, and follow the signed-in user rather than the shared IP", async () => {
    const t = await app({ RATE_LIMIT_DEFAULT: "2/1m" });
    const ip = { "fly-client-ip": "203.0.113.77" };
    const a = await registerUser(t);
    const b = await registerUser(t);
    const me = (h: Record<string, string>) => t.request("/v1/me", { headers: { ...ip, ...h } });
    expect((await me(a.headers)).status).toBe(200);
    expect((await me(a.headers)).status).toBe(200);
    await expectProblem(await me(a.headers), 429, "rate_limited");
    expect((await me(b.headers)).status).toBe(200);
    expect((await t.request("/v1/species?limit=1", { headers: { ...ip, ...a.headers } })).status).toBe(200);
  });

  test("requests with bad credentials still spend the IP's budget", async () => {
    const t = await app({ RATE_LIMIT_DEFAULT: "2/1m" });
    const bad = { "fly-client-ip": "203.0.113.78", authorization: "Bearer not.a.token" };
    await expectProblem(await t.request("/v1/me", { headers: bad }), 401, "invalid_token");
    await expectProblem(await t.request("/v1/me", { headers: bad }), 401, "invalid_token");
    await expectProblem(await t.request("/v1/me", { headers: bad }), 429, "rate_limited");
  });

  test("refresh: 30 per hour per user by default, whatever the IP", async () => {
    const t = await app({ RATE_LIMIT_REFRESH: "2/1h" });
    const u = await registerUser(t);
    let token = u.refreshToken;
    for (let i = 0; i < 2; i++) {
      const res = await t.request(
        "/v1/auth/refresh",
        jsonRequest("POST", { refreshToken: token }, { "fly-client-ip": `203.0.113.${100 + i}` }),
      );
      expect(res.status).toBe(200);
      token = ((await res.json()) as { refreshToken: string }).refreshToken;
    }
    const refused = await t.request(
      "/v1/auth/refresh",
      jsonRequest("POST", { refreshToken: token }, { "fly-client-ip": "203.0.113.120" }),
    );
    await expectProblem(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Refused before rotation: the token is still the valid one, not a "reused" one.
    const row = await t.deps.db.primary
      .selectFrom("refresh_tokens")
      .select(["used_at", "revoked_at"])
      .where("user_id", "=", u.user.id)
      .where("used_at", "is", null)
      .execute();
    expect(row).toHaveLength(1);
    expect(row[0]!.revoked_at).toBeNull();
  });
});

describe("identification limit", () => {
  test("premium (and admin) users get the higher identification limit", async () => {
    const t = await app({ RATE_LIMIT_IDENTIFY: "1/1h", RATE_LIMIT_IDENTIFY_PREMIUM: "2/1h" });
    const user = await registerUser(t);
    const premium = await registerUser(t, { role: "premium" });
    // No body: each call is counted, then refused by validation; the limit is all this test looks at.
    const identify = (h: Record<string, string>) =>
      t.request("/v1/identifications", { method: "POST", headers: h });
    const first = await identify(user.headers);
    expect(first.status).not.toBe(429);
    expect(first.headers.get("ratelimit-policy")).toBe('"identify";q=1;w=3600');
    await expectProblem(await identify(user.headers), 429, "rate_limited");
    for (let i = 0; i < 2; i++) {
      const res = await identify(premium.headers);
      expect(res.status).not.toBe(429);
      expect(res.headers.get("ratelimit-policy")).toBe('"identify-premium";q=2;w=3600');
    }
    await expectProblem(await identify(premium.headers), 429, "rate_limited");
  });
});

describe("when Redis is unreachable", () => {
  test("reads still work (the limiter fails open and logs it); sign-in fails closed with 503", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", { write: (s: string) => void lines.push(s) } as never);
    const t = await createTestApp(
      { REDIS_URL: "redis://127.0.0.1:1", REDIS_COMMAND_TIMEOUT_MS: "200" },
      { logger },
    );
    try {
      const res = await t.request("/v1/species?limit=1", { headers: { "fly-client-ip": "203.0.113.200" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit")).toBeNull();
      expect(lines.some((l) => l.includes("rate limiter unavailable"))).toBe(true);
      const login = await t.request(
        "/v1/auth/login",
        jsonRequest(
          "POST",
          { email: uniqueEmail(), password: "whatever it is" },
          { "fly-client-ip": "203.0.113.200" },
        ),
      );
      await expectProblem(login, 503, "service_unavailable");
      expect(login.headers.get("retry-after")).toBe("5");
      const errors = await t.deps.metrics.rateLimitErrors.get();
      expect(errors.values.find((v) => v.labels.policy === "default")?.value).toBeGreaterThan(0);
    } finally {
      // Not t.close(): it would clean up keys in the Redis this app never reached.
      await t.deps.close();
    }
  });
});
