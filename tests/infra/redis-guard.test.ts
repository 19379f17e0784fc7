/**
 * The breaker in front of the request path's Redis client (src/infra/redis-guard.ts), on a redis-server of
 * its own: single commands, MULTI and auto-pipelined batches pass while Redis is up, fail at once (nothing
 * queued, no timeout spent) while it is known down or the circuit is open, and pass again after it returns.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { createRedis } from "../../src/infra/redis.ts";
import { guardRedis, RedisUnavailableError } from "../../src/infra/redis-guard.ts";
import { waitFor } from "../helpers/app.ts";
import { type RedisProcess, startRedis } from "../helpers/servers/redis.ts";

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

function guarded() {
  const config = parseConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "500" });
  const client = createRedis(config.redis, "cache");
  client.on("error", () => {});
  const guard = guardRedis(client, {
    settings: { consecutiveFailures: 3, coolDownMs: 200 },
    commandTimeoutMs: 500,
  });
  return { client, breaker: guard.breaker };
}

describe("the Redis guard", () => {
  test("commands, MULTI and pipelined batches pass while Redis is up; Redis's own errors do not count", async () => {
    const { client, breaker } = guarded();
    await client.set("k", "v");
    const [a, b] = await Promise.all([client.get("k"), client.get("k")]); // auto-pipelined together
    expect([a, b]).toEqual(["v", "v"]);
    const results = await client.multi().set("m", "1").incr("m").exec();
    expect(results?.map(([, r]) => r)).toEqual(["OK", 2]);
    await expect(client.incr("k")).rejects.toThrow(/not an integer/);
    expect(breaker.state).toBe("closed");
    client.disconnect();
  });

  test("fails at once while Redis is down, opens, and closes again after it returns", async () => {
    const { client, breaker } = guarded();
    await client.ping();
    await redis.kill();
    await waitFor(() => client.status !== "ready", { what: "the client to notice" });
    for (let i = 0; i < 5; i++) {
      await expect(client.get("k")).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(client.multi().set("a", "1").exec()).rejects.toBeInstanceOf(RedisUnavailableError);
    }
    // RedisUnavailableError is thrown only for commands the guard never sent: none waited for a timeout.
    expect(breaker.state).not.toBe("closed");

    await redis.restart();
    await waitFor(
      async () => {
        try {
          return (await client.ping()) === "PONG";
        } catch {
          return false;
        }
      },
      { timeoutMs: 10_000, what: "Redis to answer through the guard again" },
    );
    expect(breaker.state).toBe("closed");
    expect(await client.multi().set("b", "2").get("b").exec()).toEqual([
      [null, "OK"],
      [null, "2"],
    ]);
    client.disconnect();
  });
});
