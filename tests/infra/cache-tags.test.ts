import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createCache } from "../../src/infra/cache.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
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

describe("cache tags", () => {
  test("invalidating a tag drops every entry carrying it and leaves the others", async () => {
    const cache = createCache(redis, prefix, createMetrics());
    await cache.getOrLoad("a", "1", 60, async () => "one", { tags: ["t1"] });
    await cache.getOrLoad("a", "2", 60, async () => "two", { tags: ["t1", "t2"] });
    await cache.getOrLoad("a", "3", 60, async () => "three", { tags: ["t2"] });
    expect(await cache.invalidateTags(["t1"])).toBe(true);
    expect(await cache.get("a", "1")).toBeUndefined();
    expect(await cache.get("a", "2")).toBeUndefined();
    expect(await cache.get<string>("a", "3")).toBe("three");
  });

  test("a fill that loaded before an invalidation answers its caller but does not store the old value", async () => {
    const metrics = createMetrics();
    const cache = createCache(redis, prefix, metrics);
    const loaded = await cache.getOrLoad(
      "race",
      "k",
      60,
      async () => {
        // The write commits and invalidates while this fill is still loading the old value.
        await cache.invalidateTags(["race-tag"]);
        return "old";
      },
      { tags: ["race-tag"] },
    );
    expect(loaded).toBe("old");
    expect(await cache.get("race", "k")).toBeUndefined();
    expect((await metrics.cacheStaleFills.get()).values[0]?.value).toBe(1);
    const fresh = await cache.getOrLoad("race", "k", 60, async () => "new", { tags: ["race-tag"] });
    expect(fresh).toBe("new");
    expect(await cache.get<string>("race", "k")).toBe("new");
  });

  test("text entries are stored and returned as the exact string", async () => {
    const cache = createCache(redis, prefix, createMetrics());
    const text = '{"a":1,"b":"é"}';
    expect(await cache.getOrLoadText("text", "k", 60, async () => text)).toBe(text);
    expect(await redis.get(`${prefix}cache:text:k`)).toBe(text);
    expect(await cache.getOrLoadText("text", "k", 60, async () => "never loaded")).toBe(text);
  });
});
