import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { failedJobsWhere, identificationRow, submitAsync } from "../helpers/background.ts";
import { identifyEnv, mediaDir, removeDir, startSimulator } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";
import type { SimProvider } from "../simulators/sim-control.ts";

// One failure opens a breaker for ~1.5 s; the default lane has two attempts with a 50 ms backoff. Before issue
// 10 a provider outage of a few seconds used both attempts and dead-lettered the identification.
const BREAKERS = {
  BREAKER_CONSECUTIVE_FAILURES: "1",
  BREAKER_COOL_DOWN_MS: "1500",
  BREAKER_HALF_OPEN_SUCCESSES: "1",
};

let sim: ProviderSimulator;
let dir: string;
let app: TestApp;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(identifyEnv(sim, dir, BREAKERS));
});
afterAll(async () => {
  await removeQueueKeys(app);
  await app.close();
  await sim.stop();
  await removeDir(dir);
});
beforeEach(() => sim.control.reset());
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

async function worker(deferMaxMs: number) {
  const w = await startWorkerProcess(
    workerEnv(app, ["default"], {
      ...identifyEnv(sim, dir, BREAKERS),
      QUEUE_DEFAULT_ATTEMPTS: "2",
      QUEUE_DEFER_MAX_MS: String(deferMaxMs),
    }),
  );
  workers.push(w);
  return w;
}

function providersDown() {
  for (const p of ["plant-id", "plantnet", "plant-id-health"] satisfies SimProvider[])
    sim.control.failWith(p, 503);
}

/** How many times the worker has logged deferring this identification's job. */
function deferrals(w: WorkerProcess, id: string): number {
  return w
    .output()
    .split("\n")
    .filter((l) => l.includes('"job deferred"') && l.includes(`identification.run:${id}`)).length;
}

describe("a job meeting open provider breakers", () => {
  test("waits for them without spending attempts, and completes once the providers are back", async () => {
    const user = await registerUser(app);
    const w = await worker(60_000);
    providersDown();
    const id = await submitAsync(app, user, [await jpeg()]);

    // The first attempt fails and opens the breakers; every later run meets them open and is deferred. Two
    // deferrals: the outage outlasts both attempts' backoff several times over.
    await waitFor(() => deferrals(w, id) >= 2, { timeoutMs: 15_000, what: "two deferrals" });
    expect((await identificationRow(app, id)).status).toBe("processing");
    sim.control.reset();

    await waitFor(async () => (await identificationRow(app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "the identification to complete after the outage",
    });
    expect(await failedJobsWhere(app, "identificationId", id)).toEqual([]);
  }, 45_000);

  test("is dead-lettered with a clear reason once it has waited longer than the cap", async () => {
    const user = await registerUser(app);
    const w = await worker(2_500);
    providersDown();
    const id = await submitAsync(app, user, [await jpeg()]);
    await waitFor(() => deferrals(w, id) >= 1, { timeoutMs: 15_000, what: "a deferral" });

    await waitFor(async () => (await identificationRow(app, id)).status === "failed", {
      timeoutMs: 15_000,
      what: "the identification to fail after the cap",
    });
    const row = await identificationRow(app, id);
    expect(row.failure).toMatchObject({ code: "providers_unavailable" });
    const [letter] = await failedJobsWhere(app, "identificationId", id);
    expect(letter?.error_name).toBe("JobDeferralExpiredError");
    expect(letter?.error).toContain("still unavailable after");
  }, 45_000);
});
