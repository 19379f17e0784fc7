import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/index.ts";
import { buildDeps } from "../../src/deps.ts";
import type { AppEnv } from "../../src/http/context.ts";
import { httpMetrics } from "../../src/http/middleware/http-metrics.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { capturingLogger, metricValue } from "./metric-value.ts";

let t: TestApp;
let logLines: Record<string, unknown>[];

/** Like createTestApp, with a logger whose lines the tests read. */
async function appWithLogCapture(): Promise<TestApp> {
  const config = parseConfig({
    NODE_ENV: "test",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
    LOG_LEVEL: "info",
  });
  const { logger, lines } = capturingLogger();
  logLines = lines;
  const deps = await buildDeps(config, { logger });
  const { app, services } = createApp(deps);
  return {
    deps,
    services,
    config,
    request: (path, init) => Promise.resolve(app.request(path, init)),
    async close() {
      const keys = await deps.redis.cache.keys(`${config.redis.keyPrefix}*`);
      if (keys.length) await deps.redis.cache.del(...keys);
      await deps.close();
    },
  };
}

beforeAll(async () => {
  t = await appWithLogCapture();
});
afterAll(() => t.close());

const registry = () => t.deps.metrics.registry;

async function someSpeciesId(): Promise<string> {
  const res = await t.request("/v1/species?limit=1");
  expect(res.status).toBe(200);
  return SpeciesPageSchema.parse(await res.json()).data[0]!.id;
}

async function getSpecies(id: string) {
  const res = await t.request(`/v1/species/${id}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return SpeciesSchema.parse(await res.json());
}

describe("HTTP metrics", () => {
  test("a request counts in http_requests_total and http_request_duration_seconds under its route pattern", async () => {
    const id = await someSpeciesId();
    const labels = { method: "GET", route: "/v1/species/:id" };
    const before = await metricValue(registry(), "http_requests_total", { ...labels, status: "200" });
    const observedBefore = await metricValue(registry(), "http_request_duration_seconds_count", labels);

    expect((await getSpecies(id)).id).toBe(id);

    expect(await metricValue(registry(), "http_requests_total", { ...labels, status: "200" })).toBe(
      before + 1,
    );
    expect(await metricValue(registry(), "http_request_duration_seconds_count", labels)).toBe(
      observedBefore + 1,
    );
    // The raw path (with the id) never becomes a label value.
    const { values } = await t.deps.metrics.httpRequests.get();
    expect(values.some((v) => String(v.labels.route).includes(id))).toBe(false);
  });

  test("http_requests_in_flight counts a request while it is served and drops back when it ends", async () => {
    const metrics = createMetrics();
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const app = new Hono<AppEnv>().use(httpMetrics(metrics)).get("/slow", async (c) => {
      entered();
      await released;
      return c.text("done");
    });

    const pending = app.request("/slow");
    await inHandler;
    expect(await metricValue(metrics.registry, "http_requests_in_flight")).toBe(1);
    release();
    expect((await pending).status).toBe(200);
    expect(await metricValue(metrics.registry, "http_requests_in_flight")).toBe(0);
  });
});

describe("cache metrics", () => {
  test("the first read of a species is a cache miss and the second a cache hit", async () => {
    const id = await someSpeciesId();
    await t.deps.cache.del("species-json", id); // an earlier test may have cached it
    const misses = await metricValue(registry(), "cache_misses_total", { cache: "species-json" });
    const hits = await metricValue(registry(), "cache_hits_total", { cache: "species-json" });

    await getSpecies(id);
    expect(await metricValue(registry(), "cache_misses_total", { cache: "species-json" })).toBe(misses + 1);
    expect(await metricValue(registry(), "cache_hits_total", { cache: "species-json" })).toBe(hits);

    await getSpecies(id);
    expect(await metricValue(registry(), "cache_hits_total", { cache: "species-json" })).toBe(hits + 1);
    expect(await metricValue(registry(), "cache_misses_total", { cache: "species-json" })).toBe(misses + 1);
  });

  test("a caller waiting for another's fill lock counts a lock wait, and one giving up at its deadline a timeout", async () => {
    const name = `obs-${crypto.randomUUID()}`;
    let finishLoad!: (v: string) => void;
    const holder = t.deps.cache.getOrLoad(
      name,
      "k",
      60,
      () => new Promise<string>((resolve) => (finishLoad = resolve)),
    );
    await waitFor(() => finishLoad !== undefined, { what: "the first caller to take the lock" });

    // A deadline, not a sleep: the waiter gives up after 50 ms and loads by itself.
    const waiter = await t.deps.cache.getOrLoad(name, "k", 60, async () => "own load", {
      waitDeadlineMs: 50,
    });
    expect(waiter).toBe("own load");
    expect(await metricValue(registry(), "cache_lock_waits_total", { cache: name })).toBe(1);
    expect(await metricValue(registry(), "cache_lock_timeouts_total", { cache: name })).toBe(1);

    finishLoad("filled");
    expect(await holder).toBe("filled");
  });
});

describe("active users and the request log line", () => {
  test("a signed-in request counts its user once in active_users; its log line has the user id, not the email", async () => {
    const alice = await registerUser(t);
    const bob = await registerUser(t);
    expect(await metricValue(registry(), "active_users")).toBe(0);

    for (const user of [alice, alice, bob]) {
      const res = await t.request("/v1/me", { headers: user.headers });
      expect(res.status).toBe(200);
      expect(UserSchema.parse(await res.json()).id).toBe(user.user.id);
    }
    // Recording is not awaited by the request: wait for it to land in Redis.
    await waitFor(async () => (await metricValue(registry(), "active_users")) === 2, {
      what: "active_users to reach 2",
    });
    expect(await t.deps.redis.cache.zcard(`${t.config.redis.keyPrefix}active-users`)).toBe(2);

    const meLines = logLines.filter((l) => l.route === "/v1/me" && l.userId === alice.user.id);
    expect(meLines).toHaveLength(2);
    for (const line of meLines) {
      expect(line).toMatchObject({ level: "info", message: "request", status: 200, method: "GET" });
      expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(line)).not.toContain(alice.email);
    }
  });
});

describe("provider metrics wiring", () => {
  test("the provider gates built in deps record their calls", async () => {
    const before = await metricValue(registry(), "provider_calls_total", {
      provider: "plantnet",
      outcome: "success",
    });
    expect(await t.deps.providers.gates.plantnet.call(async () => "answer", { timeoutMs: 1_000 })).toBe(
      "answer",
    );
    expect(
      await metricValue(registry(), "provider_calls_total", { provider: "plantnet", outcome: "success" }),
    ).toBe(before + 1);
  });
});
