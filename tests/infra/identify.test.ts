import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { BreakerOpenError } from "../../src/infra/breaker.ts";
import { createCache } from "../../src/infra/cache.ts";
import { createLogger } from "../../src/infra/logger.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
import { createIdentifier } from "../../src/infra/providers/identify.ts";
import { type IdentifyInput, unavailableRetryAfter } from "../../src/infra/providers/identify-contract.ts";
import { createPlantIdClient } from "../../src/infra/providers/plant-id.ts";
import { createPlantNetClient } from "../../src/infra/providers/plantnet.ts";
import {
  deadlineOnlyGates,
  type ProviderGate,
  type ProviderGates,
} from "../../src/infra/providers/provider-gate.ts";
import { createProviderQuota } from "../../src/infra/providers/provider-quota.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { startSimulator } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import {
  DEFAULT_PLANT_ID_KEY,
  DEFAULT_PLANTNET_KEY,
  type ProviderSimulator,
} from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let redis: Redis;
let photo: Uint8Array;
const logger = createLogger("silent");
const settings = {
  plantId: { timeoutMs: 2_000, cacheTtlSeconds: 60 },
  plantIdHealth: { timeoutMs: 2_000, cacheTtlSeconds: 60 },
  plantnet: { timeoutMs: 2_000, cacheTtlSeconds: 60, project: "k-world-flora" },
};

beforeAll(async () => {
  sim = startSimulator();
  redis = new Redis(testEnv.redisUrl);
  photo = await jpeg();
});
afterAll(async () => {
  await sim.stop();
  redis.disconnect();
});
beforeEach(() => sim.control.reset());

function identifierWith(
  opts: {
    gates?: ProviderGates;
    budgets?: Record<string, { daily: number; hourly: number }>;
    prefix?: string;
  } = {},
) {
  const prefix = opts.prefix ?? `test:${crypto.randomUUID()}:`;
  return createIdentifier({
    cache: createCache(redis, prefix, createMetrics()),
    quota: createProviderQuota({
      redis,
      keyPrefix: prefix,
      budgets: opts.budgets ?? {},
      now: () => Date.now(),
      logger,
    }),
    gates: opts.gates ?? deadlineOnlyGates(),
    clients: {
      "plant-id": createPlantIdClient({ baseUrl: sim.plantIdBaseUrl, apiKey: DEFAULT_PLANT_ID_KEY }),
      plantnet: createPlantNetClient({ baseUrl: sim.plantnetBaseUrl, apiKey: DEFAULT_PLANTNET_KEY }),
    },
    settings,
    logger,
  });
}

function input(overrides: Partial<IdentifyInput> = {}) {
  const encodings = { count: 0 };
  const value: IdentifyInput = {
    imageHashes: [crypto.randomUUID()],
    providerImages: async () => {
      encodings.count += 1;
      return [photo];
    },
    organs: ["leaf"],
    includeHealth: true,
    ...overrides,
  };
  return { value, encodings };
}

describe("identify: both providers in parallel, through the cache and the gates", () => {
  test("asks Plant.id, PlantNet and the health assessment once, then answers the same question from the cache", async () => {
    const identifier = identifierWith();
    const { value, encodings } = input();
    const first = await identifier.identify(value);
    expect([first.plantId.status, first.plantnet.status, first.health?.status]).toEqual(["ok", "ok", "ok"]);
    expect([first.plantId.cached, first.plantnet.cached, first.health?.cached]).toEqual([
      false,
      false,
      false,
    ]);
    expect(first.plantId.value?.modelVersion).toBe("plant_id:3.6.0");

    const again = await identifier.identify(value);
    expect([again.plantId.cached, again.plantnet.cached, again.health?.cached]).toEqual([true, true, true]);
    expect(again.plantId.value).toEqual(first.plantId.value!);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 1, plantnet: 1 });
    // The provider copies were made once, on the miss, and shared by the three calls.
    expect(encodings.count).toBe(3);
  });

  test("says once when every call has been sent, before the providers answer, and once when all come from the cache", async () => {
    // Gates that count the provider answers received so far.
    let answers = 0;
    const plain = deadlineOnlyGates();
    const counting = Object.fromEntries(
      Object.entries(plain).map(([name, gate]) => [
        name,
        {
          call: async (fn, options) => {
            const value = await gate.call(fn, options);
            answers += 1;
            return value;
          },
        } satisfies ProviderGate,
      ]),
    ) as unknown as ProviderGates;
    const identifier = identifierWith({ gates: counting });
    for (const provider of ["plant-id", "plant-id-health", "plantnet"] as const) {
      sim.control.setLatency(provider, 300);
    }
    const dispatches: number[] = [];
    const { value } = input({ onDispatched: () => dispatches.push(answers) });
    const first = await identifier.identify(value);
    expect(first.calls.map((c) => c.answer.status)).toEqual(["ok", "ok", "ok"]);
    expect(answers).toBe(3);
    // Called once, when no provider had answered yet: all three calls were out and waiting.
    expect(dispatches).toEqual([0]);

    const hits: number[] = [];
    const again = await identifier.identify({ ...value, onDispatched: () => hits.push(1) });
    expect(again.calls.every((c) => c.answer.cached)).toBe(true);
    expect(hits).toEqual([1]);
  });

  test("a hit never encodes the provider copy", async () => {
    const identifier = identifierWith();
    const hashes = [crypto.randomUUID()];
    await identifier.identify(input({ imageHashes: hashes }).value);
    const { value, encodings } = input({ imageHashes: hashes });
    await identifier.identify(value);
    expect(encodings.count).toBe(0);
  });

  test("20 concurrent identical questions make one call per provider", async () => {
    const identifier = identifierWith();
    sim.control.setLatency("plant-id", 150);
    sim.control.setLatency("plantnet", 150);
    const hashes = [crypto.randomUUID()];
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        identifier.identify(input({ imageHashes: hashes, includeHealth: false }).value),
      ),
    );
    expect(answers.every((a) => a.plantId.status === "ok" && a.plantnet.status === "ok")).toBe(true);
    expect(answers.filter((a) => !a.plantId.cached)).toHaveLength(1);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 0, plantnet: 1 });
  });

  test("an image that fails to encode rejects before any quota is spent or provider is called", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const identifier = identifierWith({
      prefix,
      budgets: { "plant-id": { daily: 5, hourly: 5 }, plantnet: { daily: 5, hourly: 5 } },
    });
    const broken = input({ providerImages: () => Promise.reject(new Error("does not decode")) }).value;
    await expect(identifier.identify(broken)).rejects.toThrow("does not decode");
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
    expect(await redis.keys(`${prefix}quota:*`)).toEqual([]);
  });

  test("every call goes through its provider's gate with the configured deadline", async () => {
    const seen: [string, number][] = [];
    const recording = (name: string): ProviderGate => ({
      call: (fn, { timeoutMs }) => {
        seen.push([name, timeoutMs]);
        return fn(AbortSignal.timeout(timeoutMs));
      },
    });
    const identifier = identifierWith({
      gates: {
        "plant-id": recording("plant-id"),
        "plant-id-health": recording("plant-id-health"),
        plantnet: recording("plantnet"),
      },
    });
    await identifier.identify(input().value);
    expect(seen.sort()).toEqual([
      ["plant-id", 2_000],
      ["plant-id-health", 2_000],
      ["plantnet", 2_000],
    ]);
  });

  test("an open breaker is reported as circuit_open with its remaining cool-down", async () => {
    const open: ProviderGate = {
      call: () => Promise.reject(new BreakerOpenError("plantnet", 12_300, "open")),
    };
    const identifier = identifierWith({ gates: { ...deadlineOnlyGates(), plantnet: open } });
    const outcome = await identifier.identify(input({ includeHealth: false }).value);
    expect(outcome.plantnet).toEqual({ status: "circuit_open", cached: false, retryAfterSeconds: 13 });
    expect(outcome.plantId.status).toBe("ok");
    expect(unavailableRetryAfter(outcome)).toBeUndefined();
    expect(sim.control.calls("plantnet")).toBe(0);
  });

  test("the deadline-only gate gives up at its deadline even when the call ignores its signal", async () => {
    const gate = deadlineOnlyGates().plantnet;
    const started = performance.now();
    await expect(gate.call(() => new Promise(() => {}), { timeoutMs: 50 })).rejects.toThrow(
      "no answer within 50 ms",
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("unavailableRetryAfter", () => {
  const none = { status: "failed" as const, cached: false };
  test("is undefined as soon as one provider answered, even with no match", () => {
    expect(
      unavailableRetryAfter({
        plantId: none,
        plantnet: { status: "no_match", cached: false },
        health: undefined,
      }),
    ).toBeUndefined();
  });
  test("takes the earliest hint, and 10 s for a failure that gave none", () => {
    expect(
      unavailableRetryAfter({
        plantId: { ...none, retryAfterSeconds: 30 },
        plantnet: { status: "circuit_open", cached: false, retryAfterSeconds: 42 },
        health: undefined,
      }),
    ).toBe(30);
    expect(
      unavailableRetryAfter({
        plantId: { ...none, retryAfterSeconds: 30 },
        plantnet: none,
        health: undefined,
      }),
    ).toBe(10);
  });
});

describe("provider quotas in Redis", () => {
  test("hourly and daily budgets are both counted; the spent window says when it turns", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    let now = Date.UTC(2026, 10, 27, 10, 59, 30);
    const quota = createProviderQuota({
      redis,
      keyPrefix: prefix,
      budgets: { plantnet: { hourly: 2, daily: 3 } },
      now: () => now,
      logger,
    });
    expect(await quota.take("plantnet")).toEqual({ ok: true });
    expect(await quota.take("plantnet")).toEqual({ ok: true });
    expect(await quota.take("plantnet")).toEqual({ ok: false, window: "hour", retryAfterSeconds: 30 });
    now += 60_000; // the next hour: the hourly budget is fresh, the daily one has one call left
    expect(await quota.take("plantnet")).toEqual({ ok: true });
    const refused = await quota.take("plantnet");
    expect(refused).toMatchObject({ ok: false, window: "day" });
    expect(await quota.take("plant-id")).toEqual({ ok: true });
  });

  test("status reports what each window used, what remains and when it resets; 0 is no budget", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const now = Date.UTC(2026, 10, 27, 10, 15, 0);
    const quota = createProviderQuota({
      redis,
      keyPrefix: prefix,
      budgets: { plantnet: { hourly: 5, daily: 0 } },
      now: () => now,
      logger,
    });
    await quota.take("plantnet");
    await quota.take("plantnet");
    expect(await quota.status("plantnet")).toEqual({
      hourly: { limit: 5, used: 2, remaining: 3, resetsAt: "2026-11-27T11:00:00.000Z" },
      daily: { limit: null, used: 2, remaining: null, resetsAt: "2026-11-28T00:00:00.000Z" },
    });
  });

  test("without Redis the call is allowed rather than the identification failed", async () => {
    const down = new Redis({
      port: 9,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const quota = createProviderQuota({
      redis: down,
      keyPrefix: "x:",
      budgets: { plantnet: { hourly: 1, daily: 1 } },
      now: () => Date.now(),
      logger,
    });
    expect(await quota.take("plantnet")).toEqual({ ok: true });
    down.disconnect();
  });
});

describe("the cache's single flight", () => {
  test("a caller that takes the lock just after another stored the value uses that value instead of loading again", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const valueKey = `${prefix}cache:race:k`;
    // The previous holder finishes between this caller's read and its attempt at the lock (the script that
    // takes it with SET NX): its value lands first.
    const racing = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop === "eval") {
          return async (...args: unknown[]) => {
            if (String(args[0]).includes('"NX"'))
              await target.set(valueKey, JSON.stringify("from the other holder"));
            return (target.eval as (...a: unknown[]) => Promise<unknown>)(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const cache = createCache(racing, prefix, createMetrics());
    let loads = 0;
    const value = await cache.getOrLoad("race", "k", 60, async () => {
      loads += 1;
      return "loaded again";
    });
    expect(value).toBe("from the other holder");
    expect(loads).toBe(0);
    expect(await redis.exists(`${valueKey}:lock`)).toBe(0);
  });

  test("a live holder slower than its lease renews the lock, so waiters wait instead of loading too", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const cache = createCache(redis, prefix, createMetrics());
    let loads = 0;
    const lockKey = `${prefix}cache:slow:k:lock`;
    // The work lasts until the holder has renewed its lease twice (the lock's TTL went back up): it outlives
    // the lease it started with, so only the renewals keep the waiters waiting.
    let renewals = 0;
    let lastTtl = Number.POSITIVE_INFINITY;
    const slowLoad = async () => {
      loads += 1;
      await waitFor(
        async () => {
          const ttl = await redis.pttl(lockKey);
          if (ttl > lastTtl) renewals += 1;
          lastTtl = ttl;
          return renewals >= 2;
        },
        { what: "two lease renewals" },
      );
      return "value";
    };
    const opts = { lockTtlMs: 150, waitDeadlineMs: 5_000 };
    const holder = cache.getOrLoad("slow", "k", 60, slowLoad, opts);
    await waitFor(() => redis.exists(lockKey), { what: "the holder's lock" });
    const waiters = await Promise.all([1, 2, 3].map(() => cache.getOrLoad("slow", "k", 60, slowLoad, opts)));
    expect([await holder, ...waiters]).toEqual(["value", "value", "value", "value"]);
    expect(loads).toBe(1);
  });

  test("a waiter rides out a Redis command that times out instead of calling the loader itself", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const holderCache = createCache(redis, prefix, createMetrics());
    let failNext = 0;
    const flaky = new Proxy(redis, {
      get(target, prop, receiver) {
        if (prop === "get") {
          return async (...args: unknown[]) => {
            if (failNext > 0) {
              failNext -= 1;
              throw new Error("Command timed out");
            }
            return (target.get as (...a: unknown[]) => Promise<unknown>)(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const metrics = createMetrics();
    const waiterCache = createCache(flaky, prefix, metrics);
    let loads = 0;
    let timeoutsArmed = false;
    // The provider call lasts until the waiter has met both injected timeouts.
    const load = async () => {
      loads += 1;
      await waitFor(() => timeoutsArmed && failNext === 0, { what: "the waiter to ride out both timeouts" });
      return "value";
    };
    const holder = holderCache.getOrLoad("flaky", "k", 60, load, { lockTtlMs: 1_000 });
    await waitFor(() => redis.exists(`${prefix}cache:flaky:k:lock`), { what: "the holder's lock" });
    const waiter = waiterCache.getOrLoad(
      "flaky",
      "k",
      60,
      async () => {
        failNext = 0;
        return load();
      },
      { lockTtlMs: 1_000 },
    );
    // The waiter's first look succeeds (no value, lock taken), then its next two reads time out.
    await waitFor(() => metrics.cacheLockWaits.get().then((m) => m.values.length > 0), {
      what: "the waiter to wait",
    });
    failNext = 2;
    timeoutsArmed = true;
    expect(await Promise.all([holder, waiter])).toEqual(["value", "value"]);
    expect(loads).toBe(1);
    expect((await metrics.cacheErrors.get()).values[0]?.value).toBe(2);
  });

  test("when the holder died (its lease ran out unrenewed), a waiter takes over and loads", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    await redis.set(`${prefix}cache:dead:k:lock`, "a holder that crashed", "PX", 200);
    const metrics = createMetrics();
    const cache = createCache(redis, prefix, metrics);
    let loads = 0;
    const value = await cache.getOrLoad(
      "dead",
      "k",
      60,
      async () => {
        loads += 1;
        return "reloaded";
      },
      { lockTtlMs: 1_000, waitDeadlineMs: 10_000 },
    );
    expect(value).toBe("reloaded");
    expect(loads).toBe(1);
    // It took the expired lock over; it did not sit out its whole wait deadline (no timing asserted).
    expect((await metrics.cacheLockTimeouts.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
  });
});
