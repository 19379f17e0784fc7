import { afterEach, describe, expect, test } from "bun:test";
import { PerformanceReportSchema } from "../../src/modules/models/models.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { waitForReplicaReplay } from "../helpers/replica.ts";
import { modelId, startExperiment, stopExperiment } from "./helpers.ts";

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

type Call = {
  model: string;
  role: "answer" | "shadow";
  outcome: "ok" | "failed";
  conf?: number;
  top?: string;
  ms: number;
};
type Seed = {
  variant: string;
  confidence: number | null;
  shown: string | null;
  calls: Call[];
  feedback?: boolean;
};

/** One completed identification of `user` in the experiment, written as the pipeline writes it. */
async function seed(a: TestApp, user: TestUser, experimentId: string, s: Seed): Promise<string> {
  const id = Bun.randomUUIDv7();
  const db = a.deps.db.primary;
  await db
    .insertInto("identifications")
    .values({
      id,
      user_id: user.user.id,
      status: "completed",
      is_plant: true,
      confidence: s.confidence,
      top_species_id: null,
      model_version: "seed",
      request: { organs: ["auto"], latitude: null, longitude: null, includeHealth: false },
      result: { suggestions: s.shown ? [{ scientificName: s.shown }] : [] },
      experiment_id: experimentId,
      variant: s.variant,
    })
    .execute();
  await db
    .insertInto("identification_model_calls")
    .values(
      s.calls.map((c) => ({
        id: Bun.randomUUIDv7(),
        identification_id: id,
        model_id: c.model,
        provider: "plant-id",
        model_version: `v-${c.model}`,
        role: c.role,
        outcome: c.outcome,
        cached: false,
        confidence: c.conf ?? null,
        top_name: c.top ?? null,
        latency_ms: c.ms,
        metadata: {},
      })),
    )
    .execute();
  if (s.feedback !== undefined) {
    const res = await a.request(
      `/v1/identifications/${id}/feedback`,
      jsonRequest("POST", { correct: s.feedback }, user.headers),
    );
    expect(res.status).toBe(201);
  }
  return id;
}

describe("GET /v1/admin/models/performance", () => {
  test("per model and per variant figures match the ones computed by hand for a seeded experiment", async () => {
    app = await createTestApp();
    const admin = await registerUser(app, { role: "admin" });
    const user = await registerUser(app);
    const tag = crypto.randomUUID().slice(0, 8);
    const m1 = await modelId(app, admin, { provider: "plant-id", version: `seed-a-${tag}` });
    const m2 = await modelId(app, admin, { provider: "plant-id", version: `seed-b-${tag}` });
    const m3 = await modelId(app, admin, { provider: "plantnet", version: `seed-shadow-${tag}` });
    const experiment = await startExperiment(app, admin, [
      { key: "control", control: true, weight: 5000, models: [m1] },
      { key: "b", weight: 5000, models: [m2], shadowModels: [m3] },
    ]);
    expect((await stopExperiment(app, admin, experiment.id)).status).toBe(200);

    const exp = experiment.id;
    const a = (conf: number | null, top: string | null, ms: number, fb?: boolean): Seed => ({
      variant: "control",
      confidence: conf,
      shown: top,
      calls: [
        conf === null
          ? { model: m1, role: "answer", outcome: "failed", ms }
          : { model: m1, role: "answer", outcome: "ok", conf, top: top!, ms },
      ],
      feedback: fb,
    });
    // Control: 4 identifications, one failed call, feedback 2 right of 3.
    await seed(app, user, exp, a(0.9, "Alpha", 100, true));
    await seed(app, user, exp, a(0.7, "Beta", 200, false));
    await seed(app, user, exp, a(0.85, "Gamma", 300, true));
    await seed(app, user, exp, a(null, null, 400));
    // b: 5 identifications, feedback 4 right of 5, each with a shadow call of m3.
    const b = (conf: number, top: string, ms: number, fb: boolean, shadow: Call): Seed => ({
      variant: "b",
      confidence: conf,
      shown: top,
      calls: [{ model: m2, role: "answer", outcome: "ok", conf, top, ms }, shadow],
      feedback: fb,
    });
    const sh = (conf: number | null, top: string | null, ms: number): Call =>
      conf === null
        ? { model: m3, role: "shadow", outcome: "failed", ms }
        : { model: m3, role: "shadow", outcome: "ok", conf, top: top!, ms };
    await seed(app, user, exp, b(0.95, "Delta", 50, true, sh(0.4, "Delta", 80)));
    await seed(app, user, exp, b(0.9, "Eps", 150, true, sh(0.85, "Zeta", 90)));
    await seed(app, user, exp, b(0.6, "Eta", 250, true, sh(null, null, 1000)));
    await seed(app, user, exp, b(0.82, "Theta", 350, true, sh(0.9, "Theta", 70)));
    await seed(app, user, exp, b(0.5, "Iota", 450, false, sh(0.3, "Kappa", 60)));
    await waitForReplicaReplay(app.deps);

    const user403 = await app.request(`/v1/admin/models/performance?experiment=${exp}`, {
      headers: user.headers,
    });
    await expectProblem(user403, 403, "insufficient_scope");
    const res = await app.request(`/v1/admin/models/performance?experiment=${exp}`, {
      headers: admin.headers,
    });
    expect(res.status).toBe(200);
    const report = PerformanceReportSchema.parse(await res.json());
    expect(report.experiment).toBe(exp);

    const [control, variantB] = report.variants;
    // Control: mean (0.9 + 0.7 + 0.85) / 3; > 0.8: 2 of 3; latencies 100..400 -> p50 250, p95 300 + 0.85 * 100.
    expect(control).toMatchObject({
      variant: "control",
      control: true,
      count: 4,
      latencyP50Ms: 250,
      failureRate: 0.25,
      feedbackCount: 3,
      versusControl: null,
    });
    expect(control!.meanConfidence).toBeCloseTo(0.816667, 5);
    expect(control!.highConfidenceRate).toBeCloseTo(2 / 3, 6);
    expect(control!.latencyP95Ms).toBeCloseTo(385, 6);
    expect(control!.accuracy).toBeCloseTo(2 / 3, 6);
    expect(control!.accuracyInterval!.low).toBeCloseTo(0.20766, 5);
    expect(control!.accuracyInterval!.high).toBeCloseTo(0.938508, 5);
    // b: mean 3.77 / 5; > 0.8: 3 of 5; latencies 50..450 -> p50 250, p95 350 + 0.8 * 100; accuracy 4/5.
    expect(variantB).toMatchObject({
      variant: "b",
      control: false,
      count: 5,
      latencyP50Ms: 250,
      failureRate: 0,
      feedbackCount: 5,
    });
    expect(variantB!.meanConfidence).toBeCloseTo(0.754, 6);
    expect(variantB!.highConfidenceRate).toBeCloseTo(0.6, 6);
    expect(variantB!.latencyP95Ms).toBeCloseTo(430, 6);
    expect(variantB!.accuracy).toBeCloseTo(0.8, 6);
    expect(variantB!.accuracyInterval!.low).toBeCloseTo(0.375535, 5);
    expect(variantB!.accuracyInterval!.high).toBeCloseTo(0.963776, 5);
    // 4/5 against 2/3: pooled 6/8, se = sqrt(0.1875 * (1/5 + 1/3)) = sqrt(0.1), z = 0.13333 / 0.31623.
    expect(variantB!.versusControl!.difference).toBeCloseTo(0.133333, 5);
    expect(variantB!.versusControl!.z).toBeCloseTo(0.421637, 5);
    expect(variantB!.versusControl!.pValue).toBeCloseTo(0.67329, 5);

    const model = (id: string) => report.models.find((m) => m.modelId === id)!;
    expect(model(m1)).toMatchObject({
      role: "answer",
      count: 4,
      latencyP50Ms: 250,
      failureRate: 0.25,
      feedbackCount: 3,
      accuracy: 2 / 3,
    });
    // m2's answers were what users saw: Iota was judged wrong, the other four right.
    expect(model(m2)).toMatchObject({
      role: "answer",
      count: 5,
      failureRate: 0,
      feedbackCount: 5,
      accuracy: 0.8,
    });
    // The shadow: 4 answers (0.4, 0.85, 0.9, 0.3), latencies 60, 70, 80, 90, 1000; judged on b1 (right), b2
    // (Zeta, truth Eps: wrong), b4 (right); b3 failed, b5 named another species than the wrong one shown.
    const shadow = model(m3);
    expect(shadow).toMatchObject({
      role: "shadow",
      count: 5,
      latencyP50Ms: 80,
      failureRate: 0.2,
      feedbackCount: 3,
    });
    expect(shadow.meanConfidence).toBeCloseTo(0.6125, 6);
    expect(shadow.highConfidenceRate).toBeCloseTo(0.5, 6);
    expect(shadow.latencyP95Ms).toBeCloseTo(818, 6);
    expect(shadow.accuracy).toBeCloseTo(2 / 3, 6);
    expect(report.models.map((m) => m.modelId).sort()).toEqual([m1, m2, m3].sort());
  });

  test("an unknown experiment is 404", async () => {
    app = await createTestApp();
    const admin = await registerUser(app, { role: "admin" });
    const res = await app.request(`/v1/admin/models/performance?experiment=${crypto.randomUUID()}`, {
      headers: admin.headers,
    });
    await expectProblem(res, 404, "not_found");
  });
});
