import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRow } from "../helpers/background.ts";
import { identifyEnv, mediaDir, removeDir, startSimulator, uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../helpers/servers/otlp-receiver.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let sim: ProviderSimulator;
let dir: string;
let app: TestApp;
let worker: WorkerProcess;

beforeAll(async () => {
  receiver = startOtlpReceiver();
  sim = startSimulator();
  dir = await mediaDir();
  const tracing = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_TRACES_SAMPLER_ARG: "1",
  };
  app = await createTestApp(identifyEnv(sim, dir, tracing));
  worker = await startWorkerProcess(workerEnv(app, ["default", "fast"], identifyEnv(sim, dir, tracing)));
});
afterAll(async () => {
  await worker?.stop();
  await removeQueueKeys(app);
  await app?.close();
  await sim?.stop();
  await receiver?.stop();
  if (dir) await removeDir(dir);
});

const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
const one = (spans: ReceivedSpan[], what: string, match: (s: ReceivedSpan) => boolean) => {
  const found = spans.filter(match);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0] as ReceivedSpan;
};
/** True when `ancestor` is `span` or one of its parents, following parent ids within the trace. */
function descends(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let s: ReceivedSpan | undefined = span; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined) {
    if (s.spanId === ancestor.spanId) return true;
  }
  return false;
}

describe("an asynchronous identification with tracing on", () => {
  test("is one connected trace across the API and the worker, with the spans and attributes of each step", async () => {
    const user = await registerUser(app);
    const res = await app.request("/v1/identifications", {
      method: "POST",
      headers: { ...user.headers, prefer: "respond-async" },
      body: uploadForm([await jpeg()]),
    });
    expect(res.status).toBe(202);
    const { id } = IdentificationSchema.parse(await res.json());
    const traceId = res.headers.get("traceparent")?.slice(3, 35) ?? "";
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    await waitFor(async () => (await identificationRow(app, id)).status === "completed", {
      timeoutMs: 20_000,
      what: "the identification to complete in the worker",
    });
    await app.deps.telemetry.tracing.flush();
    // The worker exports on its own schedule (every second): wait for its job span to arrive.
    await waitFor(
      () =>
        spansOf(traceId).some(
          (s) => s.kind === CONSUMER && s.attributes["plant.job.outcome"] === "completed",
        ),
      { timeoutMs: 15_000, what: "the worker's job span" },
    );
    await waitFor(() => spansOf(traceId).some((s) => s.attributes["plant.provider"] === "plantnet"), {
      timeoutMs: 10_000,
      what: "the worker's provider spans",
    });
    expect(receiver.rejected).toEqual([]);
    const spans = spansOf(traceId);

    // The request: one server span at the root, with route, status and user.
    const request = one(spans, "server span", (s) => s.kind === SERVER);
    expect(request.service).toBe("plant-community-api");
    expect(request.parentSpanId).toBeUndefined();
    expect(request.name).toBe("POST /v1/identifications");
    expect(request.attributes["http.route"]).toBe("/v1/identifications");
    expect(request.attributes["http.response.status_code"]).toBe(202);
    expect(request.attributes["enduser.id"]).toBe(user.user.id);

    // Connected: every other span's parent is a span of this same trace.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) if (s !== request) expect(ids.has(s.parentSpanId ?? "")).toBe(true);

    // The API's SQL (on the primary, as it writes) and Redis calls belong to the request.
    const apiSql = spans.filter(
      (s) => s.service === "plant-community-api" && s.attributes["db.system.name"] === "postgresql",
    );
    expect(
      apiSql.some(
        (s) =>
          s.attributes["plant.db.target"] === "primary" && s.attributes["db.operation.name"] === "INSERT",
      ),
    ).toBe(true);
    for (const s of apiSql) expect(String(s.attributes["db.query.text"])).not.toContain(user.email);
    expect(
      spans.some((s) => s.service === "plant-community-api" && s.attributes["db.system.name"] === "redis"),
    ).toBe(true);

    // Enqueue (producer, in the request) -> job run (consumer, in the worker process).
    const enqueue = one(
      spans,
      "enqueue span",
      (s) => s.kind === PRODUCER && s.attributes["plant.job.name"] === "identification.run",
    );
    expect(descends(spans, enqueue, request)).toBe(true);
    const job = one(
      spans,
      "job span",
      (s) => s.kind === CONSUMER && s.attributes["plant.job.name"] === "identification.run",
    );
    expect(job.service).toBe("plant-community-worker");
    // The job's parent is the request span (the service hands the request's traceparent to the job) or,
    // for jobs enqueued without one, the enqueue span: either way the request's descendant.
    expect([request.spanId, enqueue.spanId]).toContain(job.parentSpanId ?? "");
    expect(job.attributes["messaging.destination.name"]).toBe("default");
    expect(job.attributes["plant.job.outcome"]).toBe("completed");

    // In the worker: each provider answer (not from the cache: a fresh image), its HTTP call, the SQL it wrote.
    for (const provider of ["plant-id", "plantnet"]) {
      const answer = one(spans, `${provider} answer`, (s) => s.name === `identify ${provider}`);
      expect(descends(spans, answer, job)).toBe(true);
      expect(answer.attributes["plant.provider.status"]).toBe("ok");
      expect(answer.attributes["plant.cache.hit"]).toBe(false);
      const call = spans.find((s) => s.kind === CLIENT && s.attributes["plant.provider"] === provider);
      expect(call && descends(spans, call, answer)).toBe(true);
      // Plant.id answers 201, PlantNet 200.
      expect(String(call?.attributes["http.response.status_code"])).toMatch(/^20[01]$/);
    }
    const workerSql = spans.filter(
      (s) => s.service === "plant-community-worker" && s.attributes["db.system.name"] === "postgresql",
    );
    expect(workerSql.length).toBeGreaterThan(0);
    for (const s of workerSql) expect(descends(spans, s, job)).toBe(true);

    // The upload's image encoding is recorded wherever it ran.
    expect(spans.some((s) => s.name === "image encode")).toBe(true);
  }, 60_000);
});
