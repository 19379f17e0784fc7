/**
 * What tracing costs (issue #19). Two figures, each beside its reference measured in the same run:
 * 1. Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): the instrumented calls on the request path (SQL, Redis,
 *    cache, providers, enqueue, image encoding) each pay one AsyncLocalStorage lookup. Measured per call
 *    against a plain call, and multiplied by the spans a cached catalogue read would record.
 * 2. Tracing on: GET /v1/species/{id} throughput and p99 with spans exported over OTLP/HTTP (ratio 1, and the
 *    default 0.1 with record-only spans held for the error tail), against the same API with tracing off.
 */
import { ensureDatabase } from "../scripts/ensure-database.ts";
import { runWithTraceparent } from "../src/infra/trace-context.ts";
import { withSpan } from "../src/infra/tracing/spans.ts";
import { apiEntry, ensureTool, fmt, type LoadResult, type Started, startPinned, wrk } from "./lib.ts";

const DB_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/plant_community_bench";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 64;
/** Spans a cached catalogue read records with tracing on (server span aside): Redis reads of the limiter and cache. */
const SPANS_PER_CACHED_READ = 6;

async function disabledOverheadNs(): Promise<{ plainNs: number; instrumentedNs: number }> {
  const N = 200_000;
  const work = async () => 1;
  const time = async (fn: () => Promise<number>) => {
    for (let i = 0; i < 20_000; i++) await fn(); // warm-up
    const started = Bun.nanoseconds();
    for (let i = 0; i < N; i++) await fn();
    return (Bun.nanoseconds() - started) / N;
  };
  // Inside a request's trace scope without a tracer: exactly what every request sees with tracing off.
  return runWithTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", async () => ({
    plainNs: await time(work),
    instrumentedNs: await time(() => withSpan("bench", {}, work)),
  }));
}

export async function runTracingBench(): Promise<Record<string, number>> {
  const { plainNs, instrumentedNs } = await disabledOverheadNs();
  const perCallNs = Math.max(0, instrumentedNs - plainNs);
  console.log(
    `tracing off: an instrumented call costs ${fmt(instrumentedNs, 0)} ns against ${fmt(plainNs, 0)} ns plain` +
      ` (+${fmt(perCallNs, 0)} ns; x${SPANS_PER_CACHED_READ} calls = ${fmt((perCallNs * SPANS_PER_CACHED_READ) / 1000, 2)} µs a cached read)`,
  );

  ensureTool("wrk");
  await ensureDatabase(DB_URL);
  // A sink for the spans, in its own process: wrk blocks this one while it runs.
  const sink = await startPinned("bench/otlp-sink.ts", { core: 1, readyPath: "/count" });
  const exported = async () => ((await (await fetch(`${sink.url}/count`)).json()) as { spans: number }).spans;
  const apiEnv = {
    DATABASE_URL: DB_URL,
    LOG_LEVEL: "warn",
    NODE_ENV: "development",
    METRICS_PORT: "0",
    RATE_LIMIT_DEFAULT: "1000000000/1m",
  };
  const probe = await startPinned(await apiEntry(), { core: 0, env: apiEnv, readyPath: "/health" });
  const list = (await (await fetch(`${probe.url}/v1/species?q=monstera%20deliciosa`)).json()) as {
    data: { id: string }[];
  };
  const path = `/v1/species/${list.data[0]!.id}`;
  await probe.stop();

  const endpoint = sink.url;
  const scenarios: [string, Record<string, string>][] = [
    ["reference: tracing off", {}],
    ["tracing on, ratio 1", { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER_ARG: "1" }],
    ["tracing on, ratio 0.1", { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER_ARG: "0.1" }],
  ];
  const results: Record<string, LoadResult> = {};
  console.log(`\nGET ${path}, ${CONNECTIONS} connections, ${SECONDS} s per run`);
  for (const [name, env] of scenarios) {
    let server: Started | undefined;
    try {
      server = await startPinned(await apiEntry(), {
        core: 0,
        env: { ...apiEnv, SEED_ON_START: "false", ...env },
        readyPath: path,
      });
      const url = `${server.url}${path}`;
      wrk(url, { core: 1, connections: CONNECTIONS, seconds: 2 }); // warm-up
      const before = await exported();
      const r = wrk(url, { core: 1, connections: CONNECTIONS, seconds: SECONDS });
      results[name] = r;
      await server.stop(); // flushes the last batch of spans before they are counted
      console.log(
        `${name.padEnd(24)} ${fmt(r.rps, 0).padStart(8)} req/s  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms` +
          `  spans exported ${(await exported()) - before}${r.errors ? `  errors ${r.errors}` : ""}`,
      );
    } finally {
      await server?.stop();
    }
  }
  await sink.stop();
  const off = results["reference: tracing off"]!;
  const on = results["tracing on, ratio 1"]!;
  const sampled = results["tracing on, ratio 0.1"]!;
  const figures = {
    disabledNsPerCall: perCallNs,
    onVsOffThroughput: on.rps / off.rps,
    sampledVsOffThroughput: sampled.rps / off.rps,
  };
  console.log(
    `\ntracing off: +${fmt((perCallNs * SPANS_PER_CACHED_READ) / 1000, 2)} µs a cached read (target: ~nothing, under 1 µs)` +
      `\ntracing on, every trace exported: ${fmt(figures.onVsOffThroughput * 100)}% of the throughput with tracing off` +
      `\ntracing on, ratio 0.1: ${fmt(figures.sampledVsOffThroughput * 100)}% of the throughput with tracing off`,
  );
  return figures;
}

if (import.meta.main) await runTracingBench();
