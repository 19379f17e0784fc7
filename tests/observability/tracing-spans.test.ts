import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runInSpan, SpanKind, startEntrySpan } from "../../src/infra/tracing/spans.ts";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../helpers/servers/otlp-receiver.ts";

let receiver: OtlpReceiver;
let app: TestApp;

beforeAll(async () => {
  receiver = startOtlpReceiver();
  app = await createTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER_ARG: "1" });
});
afterAll(async () => {
  await app?.close();
  await receiver?.stop();
});

const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

describe("spans of the request path", () => {
  test("a species read records its cache lookup in Redis and its SQL on the replica under the request span", async () => {
    const page = SpeciesPageSchema.parse(await (await app.request("/v1/species?limit=1")).json());
    const id = page.data[0]?.id ?? "";
    // The caller's own trace is continued: the server span's parent is the incoming traceparent.
    const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const res = await app.request(`/v1/species/${id}`, { headers: { traceparent: incoming } });
    expect(res.status).toBe(200);
    expect(SpeciesSchema.parse(await res.json()).id).toBe(id);
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    expect(res.headers.get("traceparent")?.slice(3, 35)).toBe(traceId);

    await app.deps.telemetry.tracing.flush();
    const spans = spansOf(traceId);
    const server = spans.find((s) => s.kind === 2);
    expect(server?.parentSpanId).toBe("b7ad6b7169203331");
    expect(server?.attributes["http.route"]).toBe("/v1/species/:id");
    expect(server?.attributes["http.response.status_code"]).toBe(200);
    const children = spans.filter((s) => s.parentSpanId === server?.spanId);
    expect(
      children.some(
        (s) => s.attributes["db.system.name"] === "redis" && s.attributes["db.operation.name"] === "GET",
      ),
    ).toBe(true);
    // First read of this species in this app's key space: a miss, loaded from the replica.
    const sql = spans.filter((s) => s.attributes["db.system.name"] === "postgresql");
    expect(
      sql.some(
        (s) =>
          s.attributes["plant.db.target"] === "replica" && s.attributes["db.operation.name"] === "SELECT",
      ),
    ).toBe(true);
    expect(sql.every((s) => s.statusCode !== 2)).toBe(true);
  });

  test("a caller waiting on another's cache fill records a cache wait span", async () => {
    const tracer = app.deps.telemetry.tracing.tracer;
    if (!tracer) throw new Error("tracing is on in this file");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const key = crypto.randomUUID();
    const holder = app.deps.cache.getOrLoad("bench-wait", key, 30, async () => {
      await gate;
      return { filled: true };
    });
    // The holder has the fill lock once its lock key exists: then the waiter starts.
    await waitFor(
      async () =>
        (await app.deps.redis.cache.exists(`${app.config.redis.keyPrefix}cache:bench-wait:${key}:lock`)) ===
        1,
      {
        what: "the holder's fill lock",
      },
    );
    const span = startEntrySpan(tracer, "waiter", SpanKind.INTERNAL, undefined, {});
    const waiting = runInSpan(tracer, span, () =>
      app.deps.cache.getOrLoad("bench-wait", key, 30, async () => ({ filled: false })),
    );
    // The waiter counts its lock wait when it starts waiting: only then may the holder finish.
    await waitFor(
      async () =>
        (await app.deps.metrics.cacheLockWaits.get()).values.some(
          (v) => v.labels.cache === "bench-wait" && v.value >= 1,
        ),
      { what: "the waiter to wait" },
    );
    release();
    expect(await holder).toEqual({ filled: true });
    expect(await waiting).toEqual({ filled: true });
    span.end();

    await app.deps.telemetry.tracing.flush();
    const spans = spansOf(span.spanContext().traceId);
    const wait = spans.find((s) => s.name === "cache wait");
    expect(wait?.parentSpanId).toBe(span.spanContext().spanId);
    expect(wait?.attributes["plant.cache.name"]).toBe("bench-wait");
  });
});
