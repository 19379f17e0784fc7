import { describe, expect, test } from "bun:test";
import { waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { failedJobsWhere, identificationRow, submitAsync } from "../helpers/background.ts";
import { jpeg } from "../helpers/images.ts";
import { useWorkerE2e } from "../helpers/worker-e2e.ts";
import type { WorkerProcess } from "../helpers/workers.ts";
import type { SimProvider } from "../simulators/sim-control.ts";

// One failure opens a breaker for ~1.5 s; the default lane has two attempts with a 50 ms backoff. Before issue
// 10 a provider outage of a few seconds used both attempts and dead-lettered the identification.
const BREAKERS = {
  BREAKER_CONSECUTIVE_FAILURES: "1",
  BREAKER_COOL_DOWN_MS: "1500",
  BREAKER_HALF_OPEN_SUCCESSES: "1",
};

const fx = useWorkerE2e(BREAKERS);
const worker = (deferMaxMs: number) =>
  fx.startWorker(["default"], { QUEUE_DEFAULT_ATTEMPTS: "2", QUEUE_DEFER_MAX_MS: String(deferMaxMs) });

function providersDown() {
  for (const p of ["plant-id", "plantnet", "plant-id-health"] satisfies SimProvider[])
    fx.sim.control.failWith(p, 503);
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
    const user = await registerUser(fx.app);
    const w = await worker(60_000);
    providersDown();
    const id = await submitAsync(fx.app, user, [await jpeg()]);

    // The first attempt fails and opens the breakers; every later run meets them open and is deferred. Two
    // deferrals: the outage outlasts both attempts' backoff several times over.
    await waitFor(() => deferrals(w, id) >= 2, { timeoutMs: 15_000, what: "two deferrals" });
    expect((await identificationRow(fx.app, id)).status).toBe("processing");
    fx.sim.control.reset();

    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "the identification to complete after the outage",
    });
    expect(await failedJobsWhere(fx.app, "identificationId", id)).toEqual([]);
  }, 45_000);

  test("is dead-lettered with a clear reason once it has waited longer than the cap", async () => {
    const user = await registerUser(fx.app);
    const w = await worker(2_500);
    providersDown();
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    await waitFor(() => deferrals(w, id) >= 1, { timeoutMs: 15_000, what: "a deferral" });

    await waitFor(async () => (await identificationRow(fx.app, id)).status === "failed", {
      timeoutMs: 15_000,
      what: "the identification to fail after the cap",
    });
    const row = await identificationRow(fx.app, id);
    expect(row.failure).toMatchObject({ code: "providers_unavailable" });
    const [letter] = await failedJobsWhere(fx.app, "identificationId", id);
    expect(letter?.error_name).toBe("JobDeferralExpiredError");
    expect(letter?.error).toContain("still unavailable after");
  }, 45_000);
});
