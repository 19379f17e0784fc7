import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { CircuitBreaker } from "../../src/infra/breaker.ts";
import { isProviderOutage } from "../../src/infra/providers/provider-error.ts";
import { deadlineOnlyGate } from "../../src/infra/providers/provider-gate.ts";
import type { BlobStore } from "../../src/infra/storage/index.ts";
import { createLocalBlobStore } from "../../src/infra/storage/local.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { metricValue } from "../observability/metric-value.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
const apps: TestApp[] = [];
const dirs: string[] = [];

beforeAll(() => {
  sim = startSimulator();
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sim.stop();
  await Promise.all(dirs.map(removeDir));
});
beforeEach(() => sim.control.reset());

async function appWith(
  env: Record<string, string> = {},
  overrides: Parameters<typeof createTestApp>[1] = {},
) {
  const dir = await mediaDir();
  dirs.push(dir);
  const app = await createTestApp(identifyEnv(sim, dir, env), overrides);
  apps.push(app);
  return { app, dir, user: await registerUser(app) };
}

let shared: Awaited<ReturnType<typeof appWith>>;
beforeAll(async () => {
  shared = await appWith();
});

async function identify(
  ctx: { app: TestApp; user: { headers: Record<string, string> } },
  fields: Record<string, string> = {},
) {
  const res = await postIdentification(ctx.app, ctx.user.headers, uploadForm([await jpeg()], fields));
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

describe("one provider down: the other one's answer is enough", () => {
  test("Plant.id failing leaves PlantNet's suggestions, with PlantNet's model version", async () => {
    sim.control.failWith("plant-id", 500);
    const body = await identify(shared, { includeHealth: "false" });
    expect(body.providers.plantId).toEqual({ status: "failed", cached: false, reason: "error" });
    expect(body.providers.plantnet.status).toBe("ok");
    expect(body.suggestions.length).toBeGreaterThan(0);
    expect(body.suggestions.every((s) => s.sources.length === 1 && s.sources[0] === "plantnet")).toBe(true);
    expect(body.modelVersion).toStartWith("plantnet:");
    expect(body.isPlant).toBe(true);
  });

  test("PlantNet failing leaves Plant.id's suggestions", async () => {
    sim.control.failWith("plantnet", 503);
    const body = await identify(shared, { includeHealth: "false" });
    expect(body.providers.plantnet).toEqual({ status: "failed", cached: false, reason: "error" });
    expect(body.suggestions.every((s) => s.sources.length === 1 && s.sources[0] === "plant_id")).toBe(true);
  });

  test("a failing health assessment never fails the identification", async () => {
    sim.control.failWith("plant-id-health", 500);
    const body = await identify(shared);
    expect(body.health).toBeUndefined();
    expect(body.providers.plantIdHealth).toEqual({ status: "failed", cached: false, reason: "error" });
    expect(body.providers.plantId.status).toBe("ok");
  });

  test("a failed answer is not cached: the same photo asks the provider again", async () => {
    const photo = await jpeg();
    sim.control.failWith("plantnet", 500, 1);
    const form = () => uploadForm([photo], { includeHealth: "false" });
    const first = IdentificationSchema.parse(
      await (await postIdentification(shared.app, shared.user.headers, form())).json(),
    );
    const second = IdentificationSchema.parse(
      await (await postIdentification(shared.app, shared.user.headers, form())).json(),
    );
    expect(first.providers.plantnet.status).toBe("failed");
    expect(second.providers.plantnet).toEqual({ status: "ok", cached: false });
    expect(second.providers.plantId).toEqual({ status: "ok", cached: true });
    expect(sim.control.calls("plantnet")).toBe(2);
  });

  test("a hanging provider is cut off at its deadline and reported as a timeout", async () => {
    const ctx = await appWith({ PLANTNET_TIMEOUT_MS: "300" });
    sim.control.hang("plantnet");
    const started = performance.now();
    const body = await identify(ctx, { includeHealth: "false" });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(body.providers.plantnet).toEqual({ status: "failed", cached: false, reason: "timeout" });
    expect(body.providers.plantId.status).toBe("ok");
  });

  test("a provider without a configured key is skipped", async () => {
    const ctx = await appWith({ PLANTNET_API_KEY: "" });
    const body = await identify(ctx, { includeHealth: "false" });
    expect(body.providers.plantnet).toEqual({ status: "skipped", cached: false, reason: "not_configured" });
    expect(sim.control.calls("plantnet")).toBe(0);
  });
});

describe("a synchronous identification stops waiting for providers that have gone silent", () => {
  // The configured wait (60 s) and the calls' deadlines (80 s) are far longer than this test's own timeout: it
  // can only pass if the request stopped waiting once the providers were silent past their learnt threshold.
  test("after healthy answers, hanging providers cost a synchronous request about a second: 503 with Retry-After while the calls still run", async () => {
    const ctx = await appWith({
      IDENTIFY_SYNC_WAIT_MS: "60000",
      PLANT_ID_TIMEOUT_MS: "80000",
      PLANTNET_TIMEOUT_MS: "80000",
    });
    for (let i = 0; i < 10; i += 1) await identify(ctx, { includeHealth: "false" });
    const registry = ctx.app.deps.metrics.registry;
    for (const provider of ["plant-id", "plantnet"]) {
      // The simulator answers at once, so the stall threshold is the floor (1 s), not the 60 s wait.
      expect(await metricValue(registry, "provider_stall_threshold_seconds", { provider })).toBe(1);
    }

    sim.control.hang("plant-id");
    sim.control.hang("plantnet");
    const res = await postIdentification(
      ctx.app,
      ctx.user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(res, 503, "providers_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Answered while the simulator still holds both calls: they go on (to their deadline, or to fill the cache).
    expect(sim.control.hangingCount()).toBe(2);
    expect(await identificationRowsOf(ctx.app, ctx.user.user.id)).toHaveLength(10);
  }, 45_000);
});

describe("both providers unavailable", () => {
  test("is a 503 with Retry-After, and the images stored meanwhile are removed: no row, no object", async () => {
    const dir = await mediaDir();
    dirs.push(dir);
    const local = createLocalBlobStore({ rootDir: dir, mediaBaseUrl: "/v1/media" });
    const puts: string[] = [];
    const deletes: string[] = [];
    const storage: BlobStore = {
      ...local,
      put: async (key, bytes, type) => {
        await local.put(key, bytes, type);
        puts.push(key);
      },
      delete: async (keys) => {
        deletes.push(...keys);
        await local.delete(keys);
      },
    };
    const ctx = await appWith({}, { storage });
    sim.control.failWith("plant-id", 500);
    sim.control.failWith("plantnet", 502);
    const res = await postIdentification(ctx.app, ctx.user.headers, uploadForm([await jpeg(), await jpeg()]));
    await expectProblem(res, 503, "providers_unavailable");
    expect(res.headers.get("retry-after")).toBe("10");
    expect(sim.control.calls("plant-id")).toBe(1);
    expect(sim.control.calls("plantnet")).toBe(1);
    // Both images and both thumbnails were written while the providers were asked, then removed.
    expect(puts).toHaveLength(4);
    expect(deletes.sort()).toEqual([...puts].sort());
    expect(await filesUnder(dir)).toEqual([]);
    expect(await identificationRowsOf(ctx.app, ctx.user.user.id)).toHaveLength(0);
  });

  test("Retry-After is the earliest moment one of them may be back: Plant.id's own hint when PlantNet's budget is spent", async () => {
    const ctx = await appWith({ PLANTNET_HOURLY_QUOTA: "1" });
    await identify(ctx, { includeHealth: "false" });
    sim.control.failWith("plant-id", 429);
    const res = await postIdentification(
      ctx.app,
      ctx.user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(res, 503, "providers_unavailable");
    const secondsToNextHour = Math.ceil((3_600_000 - (Date.now() % 3_600_000)) / 1000);
    expect(Number(res.headers.get("retry-after"))).toBe(Math.min(30, secondsToNextHour));
  });
});

describe("quotas", () => {
  test("a provider whose hourly budget is spent is skipped until the hour turns, counted in Redis", async () => {
    const ctx = await appWith({ PLANTNET_HOURLY_QUOTA: "1" });
    const first = await identify(ctx, { includeHealth: "false" });
    const second = await identify(ctx, { includeHealth: "false" });
    expect(first.providers.plantnet.status).toBe("ok");
    expect(second.providers.plantnet).toEqual({
      status: "skipped",
      cached: false,
      reason: "quota_exhausted",
    });
    expect(second.providers.plantId.status).toBe("ok");
    expect(sim.control.calls("plantnet")).toBe(1);
    const hour = Math.floor(Date.now() / 3_600_000);
    const counted = await ctx.app.deps.redis.cache.get(
      `${ctx.app.config.redis.keyPrefix}quota:plantnet:h:${hour}`,
    );
    expect(counted).toBe("1");
  });

  test("a spent daily budget of both providers is a 503 whose Retry-After points to the next window", async () => {
    const ctx = await appWith({ PLANTNET_DAILY_QUOTA: "1", PLANT_ID_DAILY_QUOTA: "1" });
    await identify(ctx, { includeHealth: "false" });
    const res = await postIdentification(
      ctx.app,
      ctx.user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(res, 503, "providers_unavailable");
    const secondsToMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    expect(Math.abs(Number(res.headers.get("retry-after")) - secondsToMidnight)).toBeLessThanOrEqual(5);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 0, plantnet: 1 });
  });
});

describe("circuit breakers", () => {
  test("a provider whose breaker is open is reported circuit_open and not called", async () => {
    const breaker = new CircuitBreaker({
      name: "plantnet",
      consecutiveFailures: 1,
      coolDownMs: 60_000,
      isFailure: isProviderOutage,
    });
    const ctx = await appWith(
      {},
      {
        providerGates: {
          "plant-id": deadlineOnlyGate("plant-id"),
          "plant-id-health": deadlineOnlyGate("plant-id-health"),
          plantnet: breaker,
        },
      },
    );
    sim.control.failWith("plantnet", 503, 1);
    const tripped = await identify(ctx, { includeHealth: "false" });
    expect(tripped.providers.plantnet.status).toBe("failed");
    expect(breaker.state).toBe("open");

    const body = await identify(ctx, { includeHealth: "false" });
    expect(body.providers.plantnet).toEqual({ status: "circuit_open", cached: false });
    expect(sim.control.calls("plantnet")).toBe(1);
  });

  test("PlantNet's no-match answer does not trip the breaker", async () => {
    const breaker = new CircuitBreaker({
      name: "plantnet",
      consecutiveFailures: 1,
      isFailure: isProviderOutage,
    });
    const ctx = await appWith(
      {},
      {
        providerGates: {
          "plant-id": deadlineOnlyGate("plant-id"),
          "plant-id-health": deadlineOnlyGate("plant-id-health"),
          plantnet: breaker,
        },
      },
    );
    sim.control.noMatch("plantnet");
    const body = await identify(ctx, { includeHealth: "false" });
    expect(body.providers.plantnet.status).toBe("no_match");
    expect(breaker.state).toBe("closed");
  });

  test("both breakers open is a 503 whose Retry-After is the breakers' remaining cool-down", async () => {
    const open = (name: "plant-id" | "plantnet") =>
      new CircuitBreaker({ name, consecutiveFailures: 1, coolDownMs: 42_000, isFailure: isProviderOutage });
    const plantId = open("plant-id");
    const plantnet = open("plantnet");
    const ctx = await appWith(
      {},
      {
        providerGates: {
          "plant-id": plantId,
          "plant-id-health": deadlineOnlyGate("plant-id-health"),
          plantnet,
        },
      },
    );
    sim.control.failWith("plant-id", 500, 1);
    sim.control.failWith("plantnet", 500, 1);
    await expectProblem(
      await postIdentification(
        ctx.app,
        ctx.user.headers,
        uploadForm([await jpeg()], { includeHealth: "false" }),
      ),
      503,
      "providers_unavailable",
    );

    const res = await postIdentification(
      ctx.app,
      ctx.user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(res, 503, "providers_unavailable");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(35);
    expect(retryAfter).toBeLessThanOrEqual(42);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 0, plantnet: 1 });
    expect(await identificationRowsOf(ctx.app, ctx.user.user.id)).toHaveLength(0);
  });
});

describe("a synchronous identification waits at most IDENTIFY_SYNC_WAIT_MS for the providers", () => {
  test("a hanging provider is reported as a timeout at the wait, long before its own deadline, beside the other's answer", async () => {
    const ctx = await appWith({ IDENTIFY_SYNC_WAIT_MS: "400", PLANTNET_TIMEOUT_MS: "20000" });
    sim.control.hang("plantnet");
    const started = performance.now();
    const body = await identify(ctx, { includeHealth: "false" });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(body.providers.plantnet).toEqual({ status: "failed", cached: false, reason: "timeout" });
    expect(body.providers.plantId.status).toBe("ok");
    expect(body.suggestions.length).toBeGreaterThan(0);
  });

  test("both hanging is a 503 with the Retry-After of the calls still running, nothing kept; the calls fill the cache for the retry", async () => {
    const ctx = await appWith({
      IDENTIFY_SYNC_WAIT_MS: "400",
      PLANT_ID_TIMEOUT_MS: "20000",
      PLANTNET_TIMEOUT_MS: "20000",
    });
    for (const p of ["plant-id", "plantnet"] as const) sim.control.hang(p);
    const photo = await jpeg();
    const form = () => uploadForm([photo], { includeHealth: "false" });
    const started = performance.now();
    const res = await postIdentification(ctx.app, ctx.user.headers, form());
    expect(performance.now() - started).toBeLessThan(5_000);
    await expectProblem(res, 503, "providers_unavailable");
    expect(res.headers.get("retry-after")).toBe("20");
    expect(await identificationRowsOf(ctx.app, ctx.user.user.id)).toHaveLength(0);
    expect(await filesUnder(ctx.dir)).toEqual([]);

    // The providers answer the calls that were left running; the retry is served from the cache.
    sim.control.reset();
    const deadline = Date.now() + 15_000;
    let retried: Response;
    do {
      retried = await postIdentification(ctx.app, ctx.user.headers, form());
    } while (retried.status === 503 && Date.now() < deadline);
    expect(retried.status).toBe(201);
    const body = IdentificationSchema.parse(await retried.json());
    expect(body.providers.plantId).toEqual({ status: "ok", cached: true });
    expect(body.providers.plantnet).toEqual({ status: "ok", cached: true });
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
  });
});
