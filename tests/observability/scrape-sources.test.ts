import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import {
  ACTIVE_USERS_WINDOW_MS,
  countActiveUsers,
  recordActiveUser,
  watchActiveUsers,
} from "../../src/infra/active-users.ts";
import { groupmqNamespace } from "../../src/infra/groupmq-keys.ts";
import { createMetrics, type QueueDepths } from "../../src/infra/metrics.ts";
import { laneDepthReader, registerQueueDepthCollector } from "../../src/infra/queue-depth.ts";
import { enqueue, LANES } from "../../src/infra/queues.ts";
import { testEnv } from "../helpers/env.ts";
import { createTestDeps, metricValue } from "./metric-value.ts";

const redis = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 1 });
const prefixes: string[] = [];
const freshPrefix = () => {
  const prefix = `test:obs-active:${crypto.randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
};
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
});
afterAll(() => redis.disconnect());

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

describe("active_users", () => {
  test("counts distinct users with a request in the last 15 minutes, read from Redis at scrape time", async () => {
    const prefix = freshPrefix();
    const metrics = createMetrics();
    let now = NOW;
    watchActiveUsers(metrics, redis, prefix, () => now);
    expect(await metricValue(metrics.registry, "active_users")).toBe(0);

    await recordActiveUser(redis, prefix, "user-a", NOW - 20 * MINUTE);
    await recordActiveUser(redis, prefix, "user-b", NOW - 14 * MINUTE);
    await recordActiveUser(redis, prefix, "user-c", NOW - MINUTE);
    await recordActiveUser(redis, prefix, "user-c", NOW);
    expect(await metricValue(metrics.registry, "active_users")).toBe(2);

    // A user who comes back counts again; one whose last request slides out of the window stops counting.
    await recordActiveUser(redis, prefix, "user-a", NOW);
    now = NOW + 2 * MINUTE;
    expect(await metricValue(metrics.registry, "active_users")).toBe(2);
    expect((await redis.zrange(`${prefix}active-users`, "0", "-1")).sort()).toEqual(["user-a", "user-c"]);
  });

  test("the key expires once nobody has been active for the whole window", async () => {
    const prefix = freshPrefix();
    await recordActiveUser(redis, prefix, "user-a", NOW);
    const ttl = await redis.pttl(`${prefix}active-users`);
    expect(ttl).toBeGreaterThan(ACTIVE_USERS_WINDOW_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(ACTIVE_USERS_WINDOW_MS);
    expect(await countActiveUsers(redis, prefix, NOW)).toBe(1);
  });

  test("an unreachable Redis keeps the last reading and counts a source error instead of failing the scrape", async () => {
    const prefix = freshPrefix();
    const metrics = createMetrics();
    await recordActiveUser(redis, prefix, "user-a", NOW);
    watchActiveUsers(metrics, redis, prefix, () => NOW);
    expect(await metricValue(metrics.registry, "active_users")).toBe(1);

    const dead = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    dead.on("error", () => {});
    watchActiveUsers(metrics, dead, prefix, () => NOW);
    const text = await metrics.registry.metrics();
    expect(text).toContain("\nactive_users 1\n");
    expect(
      await metricValue(metrics.registry, "metrics_source_errors_total", { source: "active_users" }),
    ).toBe(1);
    dead.disconnect();
  });
});

describe("queue_depth", () => {
  const depths: QueueDepths = {
    default: { waiting: 3, active: 1 },
    slow: { waiting: 0, active: 0, delayed: 2, failed: 1 },
  };

  test("reads depths per lane and state at scrape time and serves one reading for the cache period", async () => {
    const metrics = createMetrics();
    let now = NOW;
    let reads = 0;
    registerQueueDepthCollector(
      metrics,
      async () => {
        reads++;
        return depths;
      },
      { cacheMs: 15_000, now: () => now },
    );
    expect(reads).toBe(0);

    expect(await metricValue(metrics.registry, "queue_depth", { lane: "default", state: "waiting" })).toBe(3);
    expect(await metricValue(metrics.registry, "queue_depth", { lane: "default", state: "delayed" })).toBe(0);
    expect(await metricValue(metrics.registry, "queue_depth", { lane: "slow", state: "failed" })).toBe(1);
    const { values } = await metrics.queueDepth.get();
    expect(values).toHaveLength(8);

    now += 14_999;
    await metrics.registry.metrics();
    expect(reads).toBe(1);
    now += 1;
    await metrics.registry.metrics();
    expect(reads).toBe(2);
  });

  test("scrapes that arrive together share one read", async () => {
    const metrics = createMetrics();
    let reads = 0;
    let finish!: (d: QueueDepths) => void;
    registerQueueDepthCollector(metrics, () => {
      reads++;
      return new Promise<QueueDepths>((resolve) => (finish = resolve));
    });
    const scrapes = [metrics.registry.metrics(), metrics.registry.metrics(), metrics.registry.metrics()];
    finish(depths);
    const texts = await Promise.all(scrapes);
    expect(reads).toBe(1);
    for (const text of texts) expect(text).toContain('queue_depth{lane="default",state="waiting"} 3');
  });

  test("a failed read leaves the gauge empty for that scrape, counts a source error and is retried next time", async () => {
    const metrics = createMetrics();
    let failing = true;
    registerQueueDepthCollector(metrics, async () => {
      if (failing) throw new Error("redis down");
      return depths;
    });
    const { values } = await metrics.queueDepth.get();
    expect(values).toEqual([]);
    expect(
      await metricValue(metrics.registry, "metrics_source_errors_total", { source: "queue_depth" }),
    ).toBe(1);
    failing = false;
    expect(await metricValue(metrics.registry, "queue_depth", { lane: "default", state: "active" })).toBe(1);
  });
});

describe("queue_depth from the real lanes", () => {
  test("a job enqueued with no worker running shows as waiting in its lane", async () => {
    const t = await createTestDeps();
    try {
      const metrics = createMetrics();
      registerQueueDepthCollector(metrics, laneDepthReader(t.deps.queues, LANES));
      expect(await metricValue(metrics.registry, "queue_depth", { lane: "fast", state: "waiting" })).toBe(0);

      const userId = Bun.randomUUIDv7();
      const job = await enqueue(
        t.deps,
        "notification.send",
        { userId, key: `obs:${userId}`, kind: "test.depth", title: "depth" },
        { groupId: `user:${userId}` },
      );
      expect(job.lane).toBe("fast");

      const fresh = createMetrics();
      registerQueueDepthCollector(fresh, laneDepthReader(t.deps.queues, LANES));
      expect(await metricValue(fresh.registry, "queue_depth", { lane: "fast", state: "waiting" })).toBe(1);
      expect(await metricValue(fresh.registry, "queue_depth", { lane: "fast", state: "active" })).toBe(0);
      expect(await metricValue(fresh.registry, "queue_depth", { lane: "default" })).toBe(0);
      const { values } = await fresh.queueDepth.get();
      expect(values).toHaveLength(LANES.length * 4);
    } finally {
      const keys = await t.deps.queues.redis.keys(`${groupmqNamespace(t.config.redis.keyPrefix)}*`);
      if (keys.length) await t.deps.queues.redis.del(...keys);
      await t.close();
    }
  });
});
