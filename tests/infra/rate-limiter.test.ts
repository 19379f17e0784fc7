import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createRateLimiter, retryAfterSeconds } from "../../src/infra/rate-limiter.ts";
import { testEnv } from "../helpers/env.ts";

let redis: Redis;
const prefix = `test:${crypto.randomUUID()}:`;
let now = 0;
const limiter = () => createRateLimiter(redis, prefix, () => now);

beforeAll(() => {
  redis = new Redis(testEnv.redisUrl);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const WINDOW_MS = 60_000;
const policy = (limit: number) => ({ name: `p${crypto.randomUUID().slice(0, 8)}`, limit, windowSeconds: 60 });

describe("sliding-window rate limiter", () => {
  test("admits exactly the limit within one window and counts down remaining", async () => {
    now = 1_000 * WINDOW_MS;
    const p = policy(3);
    const l = limiter();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await l.hit(p, "a"));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
  });

  test("Retry-After is exact: refused one millisecond before, admitted at it", async () => {
    const p = policy(3);
    const l = limiter();
    now = 2_000 * WINDOW_MS + 10_000; // 10 s into a window
    for (let i = 0; i < 3; i++) expect((await l.hit(p, "b")).allowed).toBe(true);
    const refused = await l.hit(p, "b");
    expect(refused.allowed).toBe(false);
    // Next window: the previous (3 hits) weighs 3 * (1 - e/60s); room for one more when that is <= 2, at e = 20 s.
    expect(refused.resetMs).toBe(50_000 + 20_000);
    expect(retryAfterSeconds(refused)).toBe(70);
    now += refused.resetMs - 1;
    expect((await l.hit(p, "b")).allowed).toBe(false);
    now += 1;
    expect((await l.hit(p, "b")).allowed).toBe(true);
  });

  test("identities are counted apart", async () => {
    now = 3_000 * WINDOW_MS;
    const p = policy(1);
    const l = limiter();
    expect((await l.hit(p, "x")).allowed).toBe(true);
    expect((await l.hit(p, "x")).allowed).toBe(false);
    expect((await l.hit(p, "y")).allowed).toBe(true);
  });

  test("concurrent hits from many clients never admit more than the limit (atomic)", async () => {
    now = 4_000 * WINDOW_MS;
    const p = policy(10);
    const l = limiter();
    const results = await Promise.all(Array.from({ length: 50 }, () => l.hit(p, "burst")));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });

  test("a boundary burst is smoothed: the previous window still counts right after it ends", async () => {
    const p = policy(10);
    const l = limiter();
    now = 5_000 * WINDOW_MS + 59_000;
    for (let i = 0; i < 10; i++) expect((await l.hit(p, "edge")).allowed).toBe(true);
    now = 5_001 * WINDOW_MS + 1_000; // 2 s later, in the next fixed window
    const after = await Promise.all(Array.from({ length: 10 }, () => l.hit(p, "edge")));
    // A fixed window would admit 10 more here; the sliding estimate (10 * 59/60 = 9.8) admits none.
    expect(after.filter((r) => r.allowed)).toHaveLength(0);
  });

  test("the counters expire from Redis after two windows", async () => {
    now = 6_000 * WINDOW_MS;
    const p = policy(5);
    await limiter().hit(p, "ttl");
    const ttl = await redis.pttl(`${prefix}rl:${p.name}:ttl:6000`);
    expect(ttl).toBeGreaterThan(WINDOW_MS);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW_MS);
  });
});
