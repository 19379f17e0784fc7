import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { ProviderStatusListSchema } from "../../src/modules/providers/providers.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import {
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
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
const apps: TestApp[] = [];
const dirs: string[] = [];
beforeAll(() => {
  sim = startSimulator();
});
beforeEach(() => sim.control.reset());
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sim.stop();
  await Promise.all(dirs.map(removeDir));
});

// Two consecutive failures open a breaker; a single success in half-open closes it.
const BREAKER_ENV = {
  BREAKER_CONSECUTIVE_FAILURES: "2",
  BREAKER_HALF_OPEN_SUCCESSES: "1",
  BREAKER_COOL_DOWN_MS: "60000",
};

/** An app on the simulator with a fake clock; apps given the same prefix share their breakers, like a fleet. */
async function appWith(env: Record<string, string> = {}, clock = new FakeClock(Date.now())) {
  const dir = await mediaDir();
  dirs.push(dir);
  const app = await createTestApp(identifyEnv(sim, dir, { ...BREAKER_ENV, ...env }), { clock });
  apps.push(app);
  return { app, clock, user: await registerUser(app) };
}

async function identify(app: TestApp, user: TestUser) {
  const res = await postIdentification(
    app,
    user.headers,
    uploadForm([await jpeg()], { includeHealth: "false" }),
  );
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

async function providerStates(app: TestApp) {
  const res = await app.request("/v1/providers");
  expect(res.status).toBe(200);
  const body = ProviderStatusListSchema.parse(await res.json());
  return Object.fromEntries(body.data.map((p) => [p.name, p]));
}

describe("the circuit breakers around the providers", () => {
  test("after the failure threshold Plant.id is not called and PlantNet still answers", async () => {
    const { app, user } = await appWith();
    sim.control.failWith("plant-id", 503);
    for (let i = 0; i < 2; i++) expect((await identify(app, user)).providers.plantId.status).toBe("failed");
    const plantIdCalls = sim.control.calls("plant-id");
    const plantnetCalls = sim.control.calls("plantnet");

    const served = await identify(app, user);
    expect(served.providers.plantId.status).toBe("circuit_open");
    expect(served.providers.plantnet.status).toBe("ok");
    expect(served.suggestions.length).toBeGreaterThan(0);
    expect(served.suggestions.every((s) => s.sources.includes("plantnet"))).toBe(true);
    expect(sim.control.calls("plant-id")).toBe(plantIdCalls);
    expect(sim.control.calls("plantnet")).toBe(plantnetCalls + 1);
    expect((await providerStates(app))["plant-id"]!.state).toBe("open");
    const gauge = (await app.deps.metrics.breakerState.get()).values.find(
      (v) => v.labels.breaker === "plant-id",
    );
    expect(gauge?.value).toBe(2);
  });

  test("a provider whose breaker is open spends none of its quota: identifications meanwhile count only the calls made", async () => {
    const { app, user } = await appWith();
    const admin = await registerUser(app, { role: "admin" });
    const quotaUsed = async () => {
      const res = await app.request("/v1/providers", { headers: admin.headers });
      const body = ProviderStatusListSchema.parse(await res.json());
      const used = (name: string) => body.data.find((p) => p.name === name)!.details!.quota.hourly.used;
      return { plantId: used("plant-id"), plantnet: used("plantnet") };
    };
    sim.control.failWith("plant-id", 503);
    for (let i = 0; i < 2; i++) await identify(app, user);
    expect((await providerStates(app))["plant-id"]!.state).toBe("open");
    const before = await quotaUsed();
    const callsBefore = sim.control.allCalls();
    for (let i = 0; i < 3; i++) await identify(app, user);
    expect(sim.control.allCalls()["plant-id"]).toBe(callsBefore["plant-id"]);
    expect(await quotaUsed()).toEqual({ plantId: before.plantId, plantnet: before.plantnet + 3 });
  });

  test("after the cool-down one probe goes through and closes the breaker again", async () => {
    const { app, user, clock } = await appWith();
    sim.control.failWith("plant-id", 500);
    for (let i = 0; i < 2; i++) await identify(app, user);
    expect((await identify(app, user)).providers.plantId.status).toBe("circuit_open");

    sim.control.reset();
    clock.advance(60_000);
    const probe = await identify(app, user);
    expect(probe.providers.plantId.status).toBe("ok");
    expect(sim.control.calls("plant-id")).toBe(1);
    expect((await providerStates(app))["plant-id"]!.state).toBe("closed");
    expect((await identify(app, user)).providers.plantId.status).toBe("ok");
  });

  test("photos PlantNet finds no species in never open its breaker", async () => {
    const { app, user } = await appWith();
    sim.control.noMatch("plantnet");
    for (let i = 0; i < 4; i++)
      expect((await identify(app, user)).providers.plantnet.status).toBe("no_match");
    expect(sim.control.calls("plantnet")).toBe(4);
    expect((await providerStates(app)).plantnet!.state).toBe("closed");
  });

  test("a breaker opened by one app instance is honoured by another", async () => {
    const prefix = `test:${crypto.randomUUID()}:`;
    const a = await appWith({ REDIS_KEY_PREFIX: prefix });
    const b = await appWith({ REDIS_KEY_PREFIX: prefix }, a.clock);
    sim.control.failWith("plant-id", 502);
    for (let i = 0; i < 2; i++) await identify(a.app, a.user);
    // The transition reaches the other instance over pub/sub within a second...
    await waitFor(() => b.app.deps.breakers["plant-id"].snapshot().state === "open", {
      timeoutMs: 1_000,
      what: "instance B to see the breaker open",
    });
    // ...and its next identification makes no call to Plant.id.
    const calls = sim.control.calls("plant-id");
    expect((await identify(b.app, b.user)).providers.plantId.status).toBe("circuit_open");
    expect(sim.control.calls("plant-id")).toBe(calls);
  });

  test("with both providers open the answer is 503 with the shortest retry time, and nothing is stored", async () => {
    const { app, user } = await appWith({
      BREAKER_OVERRIDES: JSON.stringify({ plantnet: { coolDownMs: 30_000 } }),
    });
    sim.control.failWith("plant-id", 503);
    sim.control.failWith("plantnet", 503);
    for (let i = 0; i < 2; i++) {
      const res = await postIdentification(
        app,
        user.headers,
        uploadForm([await jpeg()], { includeHealth: "false" }),
      );
      await expectProblem(res, 503, "providers_unavailable");
    }
    const before = sim.control.allCalls();
    const res = await postIdentification(
      app,
      user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    expect(res.headers.get("retry-after")).toBe("30");
    await expectProblem(res, 503, "providers_unavailable");
    expect(sim.control.allCalls()).toEqual(before);
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(0);
  });

  test("with both providers open the 503 comes before the account's own refusals; once they are back the account meets those", async () => {
    const { app, clock } = await appWith({ UNVERIFIED_IDENTIFICATION_ALLOWANCE: "0" });
    const user = await registerUser(app, { verified: false });
    sim.control.failWith("plant-id", 503);
    sim.control.failWith("plantnet", 503);
    const verified = await registerUser(app);
    for (let i = 0; i < 2; i++) {
      const res = await postIdentification(
        app,
        verified.headers,
        uploadForm([await jpeg()], { includeHealth: "false" }),
      );
      await expectProblem(res, 503, "providers_unavailable");
    }
    const refused = await postIdentification(
      app,
      user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(refused, 503, "providers_unavailable");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Asking to be answered later is not refused: the identification is queued for when they are back.
    const queued = await postIdentification(
      app,
      { ...verified.headers, prefer: "respond-async" },
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    expect(queued.status).toBe(202);
    expect(IdentificationSchema.parse(await queued.json()).status).toBe("queued");

    sim.control.reset();
    clock.advance(60_001);
    const after = await postIdentification(
      app,
      user.headers,
      uploadForm([await jpeg()], { includeHealth: "false" }),
    );
    await expectProblem(after, 403, "email_unverified");
  });
});

describe("GET /v1/providers", () => {
  test("anyone sees each provider's state; only admins see counts and quota", async () => {
    const { app } = await appWith();
    const publicView = await providerStates(app);
    expect(Object.keys(publicView).sort()).toEqual(["plant-id", "plant-id-health", "plantnet"]);
    expect(publicView["plant-id"]!.details).toBeUndefined();

    const admin = await registerUser(app, { role: "admin" });
    const res = await app.request("/v1/providers", { headers: admin.headers });
    const body = ProviderStatusListSchema.parse(await res.json());
    const plantnet = body.data.find((p) => p.name === "plantnet")!;
    expect(plantnet.details?.configured).toBe(true);
    expect(plantnet.details?.coordination).toBe("fleet");
    expect(plantnet.details?.quota.daily.limit).toBe(app.config.providers.plantnet.dailyQuota);
  });
});
