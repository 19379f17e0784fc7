import { afterEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { BreakerOpenError, CircuitBreaker } from "../../src/infra/breaker.ts";
import { FleetBreaker } from "../../src/infra/breaker-fleet.ts";
import { breakerHooks } from "../../src/infra/breaker-metrics.ts";
import { FakeClock } from "../../src/infra/clock.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { capturingLogger, metricValue } from "./metric-value.ts";

const TIMEOUT = { timeoutMs: 1_000 };
const fail = (b: { call: CircuitBreaker["call"] }) =>
  b.call(async () => Promise.reject(new Error("503 from provider")), TIMEOUT).catch((e) => e);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function observed() {
  const metrics = createMetrics();
  const { logger, lines } = capturingLogger();
  return { metrics, lines, hooks: breakerHooks(metrics, logger, ["plantnet"]) };
}

describe("circuit breaker metrics and logs", () => {
  test("a breaker is exported as closed from the start", async () => {
    const { metrics } = observed();
    const { values } = await metrics.breakerState.get();
    expect(values).toEqual([{ labels: { breaker: "plantnet" }, value: 0 }]);
  });

  test("opening moves the gauge, counts the transition and the calls, and logs one line", async () => {
    const { metrics, lines, hooks } = observed();
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      name: "plantnet",
      consecutiveFailures: 2,
      coolDownMs: 10_000,
      clock,
      ...hooks,
    });

    await fail(breaker);
    expect(await metricValue(metrics.registry, "circuit_breaker_state", { breaker: "plantnet" })).toBe(0);
    await fail(breaker);
    expect(await metricValue(metrics.registry, "circuit_breaker_state", { breaker: "plantnet" })).toBe(2);
    expect(
      await metricValue(metrics.registry, "circuit_breaker_transitions_total", {
        breaker: "plantnet",
        from: "closed",
        to: "open",
      }),
    ).toBe(1);
    expect(await fail(breaker)).toBeInstanceOf(BreakerOpenError);
    expect(
      await metricValue(metrics.registry, "circuit_breaker_calls_total", {
        breaker: "plantnet",
        result: "failure",
      }),
    ).toBe(2);
    expect(
      await metricValue(metrics.registry, "circuit_breaker_calls_total", {
        breaker: "plantnet",
        result: "rejected",
      }),
    ).toBe(1);

    const changes = lines.filter((l) => l.message === "circuit breaker state changed");
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      level: "warn",
      breaker: "plantnet",
      from: "closed",
      to: "open",
      reason: "2 consecutive failures",
      origin: "self",
    });

    clock.advance(10_000);
    expect(await breaker.call(async () => "ok", TIMEOUT)).toBe("ok");
    expect(await metricValue(metrics.registry, "circuit_breaker_state", { breaker: "plantnet" })).toBe(1);
    expect(
      await metricValue(metrics.registry, "circuit_breaker_transitions_total", {
        breaker: "plantnet",
        from: "open",
        to: "half_open",
      }),
    ).toBe(1);
    expect(
      await metricValue(metrics.registry, "circuit_breaker_calls_total", {
        breaker: "plantnet",
        result: "success",
      }),
    ).toBe(1);
  });

  test("an instance that learns of a transition from a peer moves its gauge but does not count the transition", async () => {
    const prefix = `test:obs-breaker:${crypto.randomUUID()}:`;
    const clock = new FakeClock();
    const connect = () => {
      const client = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 1 });
      cleanups.push(() => client.disconnect());
      return client;
    };
    cleanups.push(async () => {
      const client = new Redis(testEnv.redisUrl);
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      client.disconnect();
    });
    const fleet = async () => {
      const o = observed();
      const breaker = new FleetBreaker({
        name: "plantnet",
        keyPrefix: prefix,
        redis: connect(),
        subscriber: connect(),
        clock,
        consecutiveFailures: 2,
        ...o.hooks,
      });
      cleanups.push(() => breaker.close());
      await breaker.ready;
      return { ...o, breaker };
    };
    const a = await fleet();
    const b = await fleet();

    await fail(a.breaker);
    await fail(a.breaker);
    await waitFor(
      async () =>
        (await metricValue(b.metrics.registry, "circuit_breaker_state", { breaker: "plantnet" })) === 2,
      {
        what: "the peer to learn that the breaker opened",
      },
    );
    expect(await metricValue(a.metrics.registry, "circuit_breaker_transitions_total")).toBe(1);
    expect(await metricValue(b.metrics.registry, "circuit_breaker_transitions_total")).toBe(0);
    expect(b.lines.filter((l) => l.message === "circuit breaker state changed")).toEqual([
      expect.objectContaining({ breaker: "plantnet", from: "closed", to: "open", origin: "peer" }),
    ]);
  });
});
