import { afterEach, describe, expect, test } from "bun:test";
import { processQueuedIdentification } from "../../src/modules/identifications/identifications.process.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { ExperimentSchema, FeedbackSchema, ModelSchema } from "../../src/modules/models/models.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { submitAsync } from "../helpers/background.ts";
import { postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { modelId, startExperiment, stopExperiment } from "./helpers.ts";

const fx = useIdentifyApp();
const running: { admin: TestUser; id: string }[] = [];
afterEach(async () => {
  for (const { admin, id } of running.splice(0)) await stopExperiment(fx.app, admin, id);
  // Whatever a failed test left running: one experiment applies to every identification of the database.
  await fx.app.deps.db.primary
    .updateTable("experiments")
    .set({ status: "stopped", stopped_at: new Date() })
    .where("status", "=", "running")
    .execute();
});

async function identify(user: TestUser, fields: Record<string, string> = { includeHealth: "false" }) {
  const res = await postIdentification(fx.app, user.headers, uploadForm([await jpeg()], fields));
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

const rowOf = (id: string) =>
  fx.app.deps.db.primary
    .selectFrom("identifications")
    .select(["experiment_id", "variant", "model_version"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();

const callsOf = (id: string) =>
  fx.app.deps.db.primary
    .selectFrom("identification_model_calls")
    .selectAll()
    .where("identification_id", "=", id)
    .orderBy("role")
    .orderBy("provider")
    .execute();

async function defaultModels(admin: TestUser) {
  return {
    plantId: await modelId(fx.app, admin, { provider: "plant-id", version: "plant_id:3.6.0" }),
    plantIdAll: await modelId(fx.app, admin, {
      provider: "plant-id",
      version: "plant_id:3.7.0",
      settings: { classificationLevel: "all" },
    }),
    plantnet: await modelId(fx.app, admin, { provider: "plantnet", version: "plantnet:2025-01-17 (7.3)" }),
    weeds: await modelId(fx.app, admin, {
      provider: "plantnet",
      version: "plantnet:2025-06-30 (7.4) weeds",
      settings: { project: "weeds" },
    }),
  };
}

describe("model registry", () => {
  test("admins register models, audited; a duplicate is a conflict and other users are refused", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const user = await registerUser(fx.app);
    const model = {
      provider: "plantnet",
      version: `plantnet:test-${crypto.randomUUID()}`,
      settings: { project: "useful" },
    };
    await expectProblem(
      await fx.app.request("/v1/admin/models", jsonRequest("POST", model, user.headers)),
      403,
      "insufficient_scope",
    );

    const res = await fx.app.request("/v1/admin/models", jsonRequest("POST", model, admin.headers));
    expect(res.status).toBe(201);
    const created = ModelSchema.parse(await res.json());
    expect(created).toMatchObject({ ...model, status: "active" });
    await expectProblem(
      await fx.app.request("/v1/admin/models", jsonRequest("POST", model, admin.headers)),
      409,
      "conflict",
    );

    const retired = await fx.app.request(
      `/v1/admin/models/${created.id}`,
      jsonRequest("PATCH", { status: "retired" }, admin.headers),
    );
    expect(ModelSchema.parse(await retired.json()).status).toBe("retired");
    const audit = await fx.app.deps.db.primary
      .selectFrom("audit_log")
      .select(["action", "actor_user_id"])
      .where("entity_id", "=", created.id)
      .orderBy("created_at")
      .execute();
    expect(audit).toEqual([
      { action: "model.register", actor_user_id: admin.user.id },
      { action: "model.update", actor_user_id: admin.user.id },
    ]);
  });
});

describe("experiments", () => {
  test("a user's variant decides which models answer; the identification stores experiment, variant and each call; moving weights moves the user; stopping ends it", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const m = await defaultModels(admin);
    const user = await registerUser(fx.app);
    // Every user in b: Plant.id at classification level "all" (the simulator's plant_id:3.7.0) alone.
    const experiment = await startExperiment(fx.app, admin, [
      { key: "control", control: true, weight: 0, models: [m.plantId, m.plantnet] },
      { key: "b", weight: 10_000, models: [m.plantIdAll], merge: "first_answer" },
    ]);
    running.push({ admin, id: experiment.id });
    await expectProblem(
      await fx.app.request(
        "/v1/admin/experiments",
        jsonRequest(
          "POST",
          { name: "second", variants: experiment.variants.map(({ buckets, ...v }) => v) },
          admin.headers,
        ),
      ),
      409,
      "experiment_running",
    );

    const inB = await identify(user);
    expect(inB.modelVersion).toBe("plant_id:3.7.0");
    expect(inB.providers.plantnet).toEqual({ status: "skipped", cached: false, reason: "not_selected" });
    expect(inB.suggestions.every((s) => s.sources.join() === "plant_id")).toBe(true);
    expect(await rowOf(inB.id)).toEqual({
      experiment_id: experiment.id,
      variant: "b",
      model_version: "plant_id:3.7.0",
    });
    const [call] = await callsOf(inB.id);
    expect(call).toMatchObject({
      model_id: m.plantIdAll,
      provider: "plant-id",
      model_version: "plant_id:3.7.0",
      role: "answer",
      outcome: "ok",
      cached: false,
      confidence: inB.suggestions[0]!.probability,
      top_name: inB.suggestions[0]!.scientificName,
    });
    expect(call!.latency_ms).toBeGreaterThanOrEqual(0);
    // Sticky: the same user again.
    expect((await rowOf((await identify(user)).id)).variant).toBe("b");

    const moved = await fx.app.request(
      `/v1/admin/experiments/${experiment.id}`,
      jsonRequest("PATCH", { weights: { control: 10_000, b: 0 } }, admin.headers),
    );
    expect(moved.status).toBe(200);
    expect(ExperimentSchema.parse(await moved.json()).variants.map((v) => [v.key, v.buckets])).toEqual([
      ["control", [[0, 10_000]]],
      ["b", []],
    ]);
    const inControl = await identify(user);
    expect(inControl.modelVersion).toBe("plant_id:3.6.0");
    expect(inControl.providers.plantnet.status).toBe("ok");
    expect((await rowOf(inControl.id)).variant).toBe("control");
    expect((await callsOf(inControl.id)).map((c) => [c.provider, c.model_id, c.role])).toEqual([
      ["plant-id", m.plantId, "answer"],
      ["plantnet", m.plantnet, "answer"],
    ]);

    const stopped = await stopExperiment(fx.app, admin, experiment.id);
    running.length = 0;
    expect(ExperimentSchema.parse(await stopped.json()).status).toBe("stopped");
    await expectProblem(await stopExperiment(fx.app, admin, experiment.id), 409, "experiment_stopped");
    const after = await identify(user);
    expect(await rowOf(after.id)).toMatchObject({ experiment_id: null, variant: null });
    // Outside experiments the calls are still recorded, against the model the provider reported.
    expect((await callsOf(after.id)).map((c) => [c.provider, c.model_id])).toEqual([
      ["plant-id", m.plantId],
      ["plantnet", m.plantnet],
    ]);
    const actions = await fx.app.deps.db.primary
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", experiment.id)
      .orderBy("created_at")
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      "experiment.create",
      "experiment.change",
      "experiment.stop",
    ]);
  });

  test("a queued identification is answered by its owner's variant when the worker runs it", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const m = await defaultModels(admin);
    const user = await registerUser(fx.app);
    const experiment = await startExperiment(fx.app, admin, [
      { key: "control", control: true, weight: 0, models: [m.plantId, m.plantnet] },
      { key: "b", weight: 10_000, models: [m.plantIdAll], shadowModels: [m.weeds] },
    ]);
    running.push({ admin, id: experiment.id });
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    const outcome = await processQueuedIdentification(fx.app.deps, id, new AbortController().signal);
    expect(outcome.status).toBe("completed");
    expect(await rowOf(id)).toEqual({
      experiment_id: experiment.id,
      variant: "b",
      model_version: "plant_id:3.7.0",
    });
    // The worker waits for its shadow calls (nobody waits on it), so every record is there when it returns.
    expect((await callsOf(id)).map((c) => [c.provider, c.role, c.model_id])).toEqual([
      ["plant-id", "answer", m.plantIdAll],
      ["plant-id-health", "health", null],
      ["plantnet", "shadow", m.weeds],
    ]);
  });

  test("weights that do not sum to 10,000 or a retired model are refused", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const m = await defaultModels(admin);
    const bad = await fx.app.request(
      "/v1/admin/experiments",
      jsonRequest(
        "POST",
        {
          name: "bad",
          variants: [
            { key: "control", control: true, weight: 5000, models: [m.plantId] },
            { key: "b", weight: 4000, models: [m.plantnet] },
          ],
        },
        admin.headers,
      ),
    );
    await expectProblem(bad, 422, "invalid_experiment");
    const retired = ModelSchema.parse(
      await (
        await fx.app.request(
          "/v1/admin/models",
          jsonRequest(
            "POST",
            { provider: "plant-id", version: `retired-${crypto.randomUUID()}`, status: "retired" },
            admin.headers,
          ),
        )
      ).json(),
    );
    const withRetired = await fx.app.request(
      "/v1/admin/experiments",
      jsonRequest(
        "POST",
        {
          name: "bad",
          variants: [
            { key: "control", control: true, weight: 5000, models: [m.plantId] },
            { key: "b", weight: 5000, models: [retired.id] },
          ],
        },
        admin.headers,
      ),
    );
    await expectProblem(withRetired, 422, "invalid_experiment");
  });

  test("a shadow model is called and recorded, but never reaches the user's result, and the user never waits for it", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const m = await defaultModels(admin);
    const user = await registerUser(fx.app);
    const experiment = await startExperiment(fx.app, admin, [
      { key: "control", control: true, weight: 10_000, models: [m.plantId], shadowModels: [m.weeds] },
      { key: "b", weight: 0, models: [m.plantnet] },
    ]);
    running.push({ admin, id: experiment.id });

    const answered = await identify(user);
    expect(answered.suggestions.length).toBeGreaterThan(0);
    expect(answered.suggestions.every((s) => s.sources.join() === "plant_id")).toBe(true);
    expect(answered.providers.plantnet).toEqual({ status: "skipped", cached: false, reason: "not_selected" });
    expect(answered.modelVersion).toBe("plant_id:3.6.0");
    const shadow = await waitFor(async () => (await callsOf(answered.id)).find((c) => c.role === "shadow"), {
      what: "the shadow call's record",
    });
    expect(shadow).toMatchObject({
      model_id: m.weeds,
      provider: "plantnet",
      model_version: "plantnet:2025-06-30 (7.4) weeds",
      outcome: "ok",
    });
    expect(fx.sim.control.calls("plantnet")).toBe(1);
    // Nothing of the shadow's answer is in what the user can read back either.
    const read = IdentificationSchema.parse(
      await (await fx.app.request(`/v1/identifications/${answered.id}`, { headers: user.headers })).json(),
    );
    expect(read.suggestions).toEqual(answered.suggestions);

    // A shadow provider that hangs does not hold the user's answer.
    fx.sim.control.hang("plantnet");
    const unaffected = await identify(user);
    expect(unaffected.providers.plantId.status).toBe("ok");
    await fx.sim.control.whenCalled("plantnet", 2);
    expect((await callsOf(unaffected.id)).some((c) => c.role === "shadow")).toBe(false);
    fx.sim.control.reset();
    const late = await waitFor(async () => (await callsOf(unaffected.id)).find((c) => c.role === "shadow"), {
      what: "the released shadow call's record",
    });
    // Released, it answers (or, on a slow machine, its 3 s deadline passed first): recorded either way.
    expect(["ok", "failed"]).toContain(late!.outcome);
    expect(late!.model_id).toBe(m.weeds);
  });
});

describe("POST /v1/identifications/{id}/feedback", () => {
  test("the owner says whether it was right: 201, then 200 when replaced; others get 404; an unknown species is 422", async () => {
    const user = await registerUser(fx.app);
    const stranger = await registerUser(fx.app);
    const identification = await identify(user);
    const url = `/v1/identifications/${identification.id}/feedback`;

    const first = await fx.app.request(url, jsonRequest("POST", { correct: true }, user.headers));
    expect(first.status).toBe(201);
    expect(FeedbackSchema.parse(await first.json())).toMatchObject({
      identificationId: identification.id,
      correct: true,
      speciesId: null,
    });

    const species = identification.suggestions[1]!.speciesId!;
    const second = await fx.app.request(
      url,
      jsonRequest("POST", { correct: false, speciesId: species }, user.headers),
    );
    expect(second.status).toBe(200);
    expect(FeedbackSchema.parse(await second.json())).toMatchObject({ correct: false, speciesId: species });
    const stored = await fx.app.deps.db.primary
      .selectFrom("identification_feedback")
      .select(["correct", "truth_name", "shown_name"])
      .where("identification_id", "=", identification.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({
      correct: false,
      truth_name: identification.suggestions[1]!.scientificName,
      shown_name: identification.suggestions[0]!.scientificName,
    });

    await expectProblem(
      await fx.app.request(url, jsonRequest("POST", { correct: true }, stranger.headers)),
      404,
      "not_found",
    );
    await expectProblem(
      await fx.app.request(
        url,
        jsonRequest("POST", { correct: false, speciesId: crypto.randomUUID() }, user.headers),
      ),
      422,
      "unknown_species",
    );
    await expectProblem(
      await fx.app.request(url, jsonRequest("POST", { correct: "yes" }, user.headers)),
      400,
      "validation_failed",
    );
  });
});
