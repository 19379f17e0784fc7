import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { secondsToNextUtcDay } from "../../src/infra/providers/user-budget.ts";
import { BatchSchema } from "../../src/modules/identification-batches/batches.schemas.ts";
import { processQueuedIdentification } from "../../src/modules/identifications/identifications.process.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { userProviderBudget } from "../../src/modules/identifications/provider-budget.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
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
import { removeQueueKeys } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let dir: string;
/** Plain users may cause 4 provider calls a day, premium users 100; 25 identifications an hour. */
let t: TestApp;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  t = await createTestApp(
    identifyEnv(sim, dir, {
      PROVIDER_BUDGET_USER_DAILY: "4",
      PROVIDER_BUDGET_PREMIUM_DAILY: "100",
      RATE_LIMIT_IDENTIFY: "25/1h",
    }),
  );
});
afterAll(async () => {
  await removeQueueKeys(t);
  await t.close();
  await sim.stop();
  await removeDir(dir);
});

const used = (user: TestUser) => userProviderBudget(t.deps).used(user.user.id);

async function photos(n: number): Promise<FormData> {
  const form = new FormData();
  for (let i = 0; i < n; i++) {
    const bytes = (await jpeg({ width: 160, height: 160 })) as Uint8Array<ArrayBuffer>;
    form.append("images", new Blob([bytes], { type: "image/jpeg" }), `p${i}.jpg`);
  }
  return form;
}

const postBatch = (user: TestUser, body: FormData) =>
  t.request("/v1/identification-batches", { method: "POST", headers: user.headers, body });

function expectRetryAfterNextUtcDay(res: Response) {
  const retryAfter = Number(res.headers.get("retry-after"));
  const expected = secondsToNextUtcDay(Date.now());
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(Math.abs(retryAfter - expected)).toBeLessThanOrEqual(5);
}

describe("the per-user daily provider budget", () => {
  test("each provider call counts; once spent, the user gets 429 provider_budget_exhausted until the next UTC day", async () => {
    const user = await registerUser(t);
    // Plant.id, PlantNet and the health assessment: three calls.
    const first = await postIdentification(t, user.headers, uploadForm([await jpeg()]));
    expect(first.status).toBe(201);
    const body = IdentificationSchema.parse(await first.json());
    expect(body.providers.plantIdHealth?.status).toBe("ok");
    expect(await used(user)).toBe(3);
    // One call left: a second identification may start (it needs at least one) and spends past the budget.
    expect((await postIdentification(t, user.headers, uploadForm([await jpeg()]))).status).toBe(201);
    expect(await used(user)).toBe(6);

    const rowsBefore = (await identificationRowsOf(t, user.user.id)).length;
    const refused = await postIdentification(t, user.headers, uploadForm([await jpeg()]));
    const problem = await expectProblem(refused, 429, "provider_budget_exhausted");
    expect(problem.detail).toContain("midnight UTC");
    expectRetryAfterNextUtcDay(refused);
    // Refused before the upload was read: nothing stored, no provider called.
    expect((await identificationRowsOf(t, user.user.id)).length).toBe(rowsBefore);
    expect(await used(user)).toBe(6);
  });

  test("the budget is per user and per role: another user, and a premium user, still identify", async () => {
    const spent = await registerUser(t);
    for (let i = 0; i < 4; i++) await userProviderBudget(t.deps).count(spent.user.id);
    await expectProblem(
      await postIdentification(t, spent.headers, uploadForm([await jpeg()])),
      429,
      "provider_budget_exhausted",
    );
    const other = await registerUser(t);
    expect((await postIdentification(t, other.headers, uploadForm([await jpeg()]))).status).toBe(201);
    const premium = await registerUser(t, { role: "premium" });
    for (let i = 0; i < 10; i++) await userProviderBudget(t.deps).count(premium.user.id);
    expect((await postIdentification(t, premium.headers, uploadForm([await jpeg()]))).status).toBe(201);
    expect(await used(premium)).toBe(13);
  });

  test("an answer from the cache costs nothing", async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    const photo = await jpeg();
    expect((await postIdentification(t, a.headers, uploadForm([photo]))).status).toBe(201);
    const again = await postIdentification(t, b.headers, uploadForm([photo]));
    expect(again.status).toBe(201);
    const body = IdentificationSchema.parse(await again.json());
    expect(body.providers.plantId).toEqual({ status: "ok", cached: true });
    expect(await used(b)).toBe(0);
  });

  test("calls a worker makes for a queued identification count against its owner", async () => {
    const user = await registerUser(t);
    const res = await postIdentification(t, user.headers, uploadForm([await jpeg()]), {
      Prefer: "respond-async",
    });
    expect(res.status).toBe(202);
    const { id } = IdentificationSchema.parse(await res.json());
    expect(await used(user)).toBe(0);
    // What the default lane's job runs (workers/jobs/default.identification-run.ts).
    const outcome = await processQueuedIdentification(t.deps, id, AbortSignal.timeout(20_000));
    expect(outcome.status).toBe("completed");
    expect(await used(user)).toBe(3);
  });

  test("a batch needs room for every photo: one that does not fit is refused whole, before anything is stored", async () => {
    const user = await registerUser(t);
    const rowsBefore = (await identificationRowsOf(t, user.user.id)).length;
    const refused = await postBatch(user, await photos(5));
    await expectProblem(refused, 429, "provider_budget_exhausted");
    expectRetryAfterNextUtcDay(refused);
    expect((await identificationRowsOf(t, user.user.id)).length).toBe(rowsBefore);
    const accepted = await postBatch(user, await photos(4));
    expect(accepted.status).toBe(202);
    expect(BatchSchema.parse(await accepted.json()).total).toBe(4);
  });
});

describe("batches and the identification rate limit", () => {
  test("every photo of a batch counts against the identification limit, not once against the default", async () => {
    // An app without per-user budgets: this test is about the rate limit alone.
    const app = await createTestApp(
      identifyEnv(sim, dir, { PROVIDER_BUDGET_USER_DAILY: "0", RATE_LIMIT_IDENTIFY: "25/1h" }),
    );
    try {
      const u = await registerUser(app);
      const batch = (body: FormData) =>
        app.request("/v1/identification-batches", { method: "POST", headers: u.headers, body });
      expect((await batch(await photos(20))).status).toBe(202);
      // 20 of 25 spent: 6 more photos do not fit, and nothing of them is kept.
      const rowsBefore = (await identificationRowsOf(app, u.user.id)).length;
      const refused = await batch(await photos(6));
      const problem = await expectProblem(refused, 429, "rate_limited");
      expect(problem.detail).toContain("6 photos");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get("ratelimit-policy")).toBe('"identify";q=25;w=3600');
      expect((await identificationRowsOf(app, u.user.id)).length).toBe(rowsBefore);
      // The same limit as POST /v1/identifications: 5 left.
      expect((await batch(await photos(5))).status).toBe(202);
      await expectProblem(
        await postIdentification(app, u.headers, uploadForm([await jpeg()])),
        429,
        "rate_limited",
      );
    } finally {
      await removeQueueKeys(app);
      await app.close();
    }
  }, 60_000);
});
