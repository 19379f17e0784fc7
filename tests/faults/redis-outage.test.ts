/**
 * Defect 2 of issue #10: Redis on the request path. Against a real redis-server of our own (killed with
 * SIGKILL, or frozen with SIGSTOP) each use keeps its documented rule - the species cache falls through to the
 * database, session checks and rate limits fail open, sign-in fails closed with 503 + Retry-After, async work
 * answers 503 + Retry-After - the breaker in front of Redis opens so commands stop waiting, and everything
 * comes back by itself once Redis does. (Latency targets are measured by `bun run drill redis-down`.)
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { ipHeader, jsonRequest, registerUser, type TestUser, testIp } from "../helpers/auth.ts";
import { uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { useRedisFaultApp } from "../helpers/redis-fault-app.ts";
import { metricValue } from "../observability/metric-value.ts";

const fx = useRedisFaultApp({ REDIS_COMMAND_TIMEOUT_MS: "300", REDIS_BREAKER_COOL_DOWN_MS: "1000" });
let user: TestUser;
let speciesId: string;

beforeAll(async () => {
  user = await registerUser(fx.app);
  const list = await fx.app.request("/v1/species?limit=1", { headers: user.headers });
  speciesId = ((await list.json()) as { data: { id: string }[] }).data[0]!.id;
});
afterEach(async () => {
  fx.redis.resume();
  if (!fx.redis.running) await fx.redis.restart();
});

const species = () => fx.app.request(`/v1/species/${speciesId}`, { headers: user.headers });
const me = () => fx.app.request("/v1/me", { headers: user.headers });
const login = () =>
  fx.app.request(
    "/v1/auth/login",
    jsonRequest("POST", { email: user.email, password: user.password }, ipHeader(fx.app, testIp())),
  );
const submitAsync = async () =>
  fx.app.request("/v1/identifications", {
    method: "POST",
    headers: { ...user.headers, prefer: "respond-async" },
    body: uploadForm([await jpeg()]),
  });
const calls = (result: string) =>
  metricValue(fx.app.deps.metrics.registry, "circuit_breaker_calls_total", { breaker: "redis", result });

describe("Redis down (kill -9)", () => {
  test("each use keeps its rule while Redis is gone, and all recover by themselves when it returns", async () => {
    await fx.redis.kill();

    // Reads are served degraded: the species cache falls through to the database, the session check opens.
    const read = await species();
    expect(read.status).toBe(200);
    expect(SpeciesSchema.parse(await read.json()).id).toBe(speciesId);
    const profile = await me();
    expect(profile.status).toBe(200);
    expect(UserSchema.parse(await profile.json()).id).toBe(user.user.id);
    // Sign-in fails closed (the brute-force limits live in Redis); async work cannot be queued.
    const signIn = await login();
    await expectProblem(signIn, 503, "service_unavailable");
    expect(Number(signIn.headers.get("retry-after"))).toBeGreaterThan(0);
    const queued = await submitAsync();
    await expectProblem(queued, 503, "service_unavailable");
    expect(Number(queued.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(fx.app.deps.redisGuard.breaker.state).toBe("open");

    await fx.redis.restart();
    await waitFor(async () => (await login()).status === 200, {
      timeoutMs: 10_000,
      what: "sign-in to work again",
    });
    expect(SessionSchema.parse(await (await login()).json()).user.id).toBe(user.user.id);
    expect(fx.app.deps.redisGuard.breaker.state).toBe("closed");
    expect((await submitAsync()).status).toBe(202);
  });
});

describe("Redis hung (SIGSTOP: the socket stays open, nothing answers)", () => {
  test("costs at most one command timeout per probe interval, not one per command", async () => {
    const failuresBefore = await calls("failure");
    fx.redis.pause();
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      const res = await species();
      expect(res.status).toBe(200); // served from the database throughout
      expect((await me()).status).toBe(200);
    }
    const elapsedMs = Date.now() - started;
    expect(fx.app.deps.redisGuard.breaker.state).not.toBe("closed");
    // Commands that actually waited for Redis: those before the breaker opened, then one probe per cool-down.
    const waited = (await calls("failure")) - failuresBefore;
    const { consecutiveFailures, coolDownMs } = fx.app.config.redis.breaker;
    expect(waited).toBeLessThanOrEqual(consecutiveFailures + Math.ceil(elapsedMs / coolDownMs) + 1);
    expect(await calls("rejected")).toBeGreaterThan(0);

    fx.redis.resume();
    await waitFor(async () => (await login()).status === 200, {
      timeoutMs: 10_000,
      what: "sign-in to work again",
    });
    expect(fx.app.deps.redisGuard.breaker.state).toBe("closed");
  });
});
