import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/infra/logger.ts";
import { mediaFlowMetrics } from "../../src/infra/storage/media-flow-metrics.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRow } from "../helpers/background.ts";
import {
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../helpers/servers/otlp-receiver.ts";
import { type SentryReceiver, startSentryReceiver } from "../helpers/servers/sentry-receiver.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

const RELEASE = "plant-community-api@test-error-tracking";

let sentry: SentryReceiver;
let otlp: OtlpReceiver;
let sim: ProviderSimulator;
let dir: string;
let app: TestApp;
let worker: WorkerProcess | undefined;
const logLines: Record<string, unknown>[] = [];
/** Flipped by a test: from then on, building an image URL fails like a defect in our code would. */

function env(): Record<string, string> {
  return identifyEnv(sim, dir, {
    SENTRY_DSN: sentry.dsn,
    SENTRY_RELEASE: RELEASE,
    SENTRY_ENVIRONMENT: "test",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    // Head sampling keeps nothing: only the tail decision for failures exports a trace.
    OTEL_TRACES_SAMPLER_ARG: "0",
  });
}

beforeAll(async () => {
  sentry = startSentryReceiver();
  otlp = startOtlpReceiver();
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(env(), {
    logger: createLogger("info", { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  });
});
afterAll(async () => {
  await worker?.stop();
  await removeQueueKeys(app);
  await app?.close();
  await sim?.stop();
  await sentry?.stop();
  await otlp?.stop();
  if (dir) await removeDir(dir);
});

const eventsFor = (requestId: string) => sentry.events.filter((e) => e.tags?.request_id === requestId);

describe("error tracking and the error tail of tracing in the API", () => {
  test("an unexpected error is sent with request id, route, user id, release and the trace id of the problem, its log line and its exported trace", async () => {
    const user = await registerUser(app);
    const created = await postIdentification(app, user.headers, uploadForm([await jpeg()]));
    expect(created.status).toBe(201);
    const { id } = IdentificationSchema.parse(await created.json());
    const createdTrace = created.headers.get("traceparent")?.slice(3, 35);

    // A defect while building the image URLs (signing one counts it: that step throws here).
    const issued = mediaFlowMetrics(app.deps.metrics.registry).signedUrlsIssued;
    const inc = issued.inc;
    issued.inc = () => {
      throw new TypeError("simulated defect while building an image URL");
    };
    let res: Response;
    try {
      res = await app.request(`/v1/identifications/${id}`, { headers: user.headers });
    } finally {
      issued.inc = inc;
    }
    const problem = await expectProblem(res, 500, "internal_error");
    expect(problem.detail).not.toContain("simulated defect");
    expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(problem.traceId).toBe(res.headers.get("traceparent")?.slice(3, 35) as string);

    await app.deps.telemetry.errors.flush();
    await app.deps.telemetry.tracing.flush();
    const [event, ...more] = eventsFor(problem.requestId);
    expect(more).toEqual([]);
    expect(event?.exception?.values[0]).toMatchObject({
      type: "TypeError",
      value: "simulated defect while building an image URL",
    });
    expect(event?.tags?.route).toBe("/v1/identifications/:id");
    expect(event?.tags?.method).toBe("GET");
    expect(event?.user).toEqual({ id: user.user.id });
    expect(event?.release).toBe(RELEASE);
    expect(event?.environment).toBe("test");
    expect(event?.contexts?.trace?.trace_id).toBe(problem.traceId);
    // Never the e-mail address, nor the credentials, anywhere in what was sent.
    for (const envelope of sentry.raw) {
      expect(envelope).not.toContain(user.email);
      expect(envelope).not.toContain(user.accessToken);
    }

    // The log line of the request names the same trace.
    const line = logLines.find((l) => l.requestId === problem.requestId && l.message === "request failed");
    expect(line?.traceId).toBe(problem.traceId);

    // Sampled out at the head, the failed request's trace was still exported whole (tail decision)...
    const failed = otlp.spans.filter((s) => s.traceId === problem.traceId);
    const server = failed.find((s) => s.kind === 2);
    expect(server?.statusCode).toBe(2);
    expect(server?.attributes["http.response.status_code"]).toBe(500);
    expect(failed.some((s) => s.attributes["db.system.name"] === "postgresql")).toBe(true);
    // ...and the successful one before it was not.
    expect(otlp.spans.filter((s) => s.traceId === createdTrace)).toEqual([]);
  }, 30_000);

  test("expected problems (4xx) are not sent and their traces are not exported", async () => {
    const user = await registerUser(app);
    const missing = await app.request(`/v1/identifications/${Bun.randomUUIDv7()}`, { headers: user.headers });
    const notFound = await expectProblem(missing, 404, "not_found");
    const invalid = await expectProblem(
      await app.request("/v1/identifications/not-a-uuid", { headers: user.headers }),
      400,
      "validation_failed",
    );
    const anonymous = await expectProblem(await app.request("/v1/identifications"), 401, "unauthenticated");

    await app.deps.telemetry.errors.flush();
    await app.deps.telemetry.tracing.flush();
    for (const p of [notFound, invalid, anonymous]) {
      expect(p.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(eventsFor(p.requestId)).toEqual([]);
      expect(otlp.spans.filter((s) => s.traceId === p.traceId)).toEqual([]);
    }
  });
});

describe("error tracking in a worker", () => {
  test("a job that fails for good is sent with its job, lane, owner's id and the trace of the request that queued it", async () => {
    worker = await startWorkerProcess(
      workerEnv(app, ["default"], {
        ...env(),
        BREAKER_CONSECUTIVE_FAILURES: "1",
        BREAKER_COOL_DOWN_MS: "1500",
        QUEUE_DEFAULT_ATTEMPTS: "1",
        QUEUE_DEFER_MAX_MS: "1000",
      }),
    );
    for (const p of ["plant-id", "plantnet", "plant-id-health"] as const) sim.control.failWith(p, 503);
    const user = await registerUser(app);
    const res = await app.request("/v1/identifications", {
      method: "POST",
      headers: { ...user.headers, prefer: "respond-async" },
      body: uploadForm([await jpeg()]),
    });
    expect(res.status).toBe(202);
    const { id } = IdentificationSchema.parse(await res.json());
    const traceId = res.headers.get("traceparent")?.slice(3, 35);

    await waitFor(async () => (await identificationRow(app, id)).status === "failed", {
      timeoutMs: 20_000,
      what: "the identification to fail",
    });
    const event = await waitFor(
      () => sentry.events.find((e) => e.tags?.job === "identification.run" && e.user?.id === user.user.id),
      { timeoutMs: 10_000, what: "the worker's error event" },
    );
    sim.control.reset();
    expect(event?.tags?.lane).toBe("default");
    expect(event?.contexts?.job).toMatchObject({ name: "identification.run", lane: "default" });
    expect(event?.contexts?.trace?.trace_id).toBe(traceId as string);
    expect(event?.release).toBe(RELEASE);
    expect(["JobDeferralExpiredError", "ProviderError", "Error"]).toContain(
      event?.exception?.values[0]?.type ?? "",
    );
    for (const envelope of sentry.raw) expect(envelope).not.toContain(user.email);
  }, 45_000);
});
