import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createLocalPrecheck } from "../../src/infra/rate-limit-local.ts";
import { createRateLimiter, type RatePolicy } from "../../src/infra/rate-limiter.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";

let redis: Redis;
const prefix = `test:${crypto.randomUUID()}:`;
beforeAll(() => {
  redis = new Redis(testEnv.redisUrl);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

// A fixed instant in the middle of a window, so no test crosses a window boundary.
const clock = { now: () => 1_800_000_000_000 + 30_000 };

function instance(share: number, syncMs = 60_000) {
  const limiter = createRateLimiter(redis, prefix, clock.now);
  return { limiter, precheck: createLocalPrecheck(limiter, { share, syncMs, now: clock.now }) };
}

async function admit(p: ReturnType<typeof instance>["precheck"], policy: RatePolicy, key: string) {
  return (p.tryLocal(policy, key) ?? (await p.hitShared(policy, key, true))).allowed;
}

describe("local rate-limit pre-check", () => {
  test("a caller far below its limit is admitted locally up to the budget, then all of it is counted in Redis", async () => {
    const policy = { name: "default", limit: 100, windowSeconds: 60 };
    const key = `k:${crypto.randomUUID()}`;
    const { limiter, precheck } = instance(0.1);
    expect((await precheck.hitShared(policy, key, true)).remaining).toBe(99);
    for (let i = 0; i < 10; i++) expect(precheck.tryLocal(policy, key)?.remaining).toBe(98 - i);
    expect(precheck.tryLocal(policy, key)).toBeUndefined(); // budget spent: ask Redis
    expect((await limiter.peek(policy, key)).remaining).toBe(99); // the ten are not counted yet
    await precheck.hitShared(policy, key, true);
    expect((await limiter.peek(policy, key)).remaining).toBe(88); // 1 + 10 + 1
  });

  test("small policies and fail-closed ones always ask Redis", async () => {
    const small = { name: "register", limit: 5, windowSeconds: 3600 };
    const key = `k:${crypto.randomUUID()}`;
    const { precheck } = instance(0.1);
    for (let i = 0; i < 5; i++) {
      expect(precheck.tryLocal(small, key)).toBeUndefined();
      expect((await precheck.hitShared(small, key, true)).allowed).toBe(true);
    }
    expect(precheck.tryLocal(small, key)).toBeUndefined();
    expect((await precheck.hitShared(small, key, true)).allowed).toBe(false);

    const login = { name: "login", limit: 1000, windowSeconds: 900 };
    await precheck.hitShared(login, key, false);
    expect(precheck.tryLocal(login, key)).toBeUndefined();
  });

  test("two instances together admit at most the limit plus each one's budget", async () => {
    const policy = { name: "default", limit: 100, windowSeconds: 60 };
    const key = `k:${crypto.randomUUID()}`;
    const a = instance(0.1);
    const b = instance(0.1);
    let admitted = 0;
    for (let i = 0; i < 300; i++) if (await admit(i % 2 ? a.precheck : b.precheck, policy, key)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(admitted).toBeLessThanOrEqual(100 + 2 * 10);
  });

  test("local admissions of a caller who stops are counted by the background flush", async () => {
    const policy = { name: "default", limit: 100, windowSeconds: 60 };
    const key = `k:${crypto.randomUUID()}`;
    const { limiter, precheck } = instance(0.1, 20);
    await precheck.hitShared(policy, key, true);
    for (let i = 0; i < 5; i++) expect(precheck.tryLocal(policy, key)?.allowed).toBe(true);
    await waitFor(async () => (await limiter.peek(policy, key)).remaining === 94, {
      what: "the five local admissions to reach Redis",
    });
  });
});
