import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { type ChildProcess, spawnBun } from "../helpers/process.ts";
import { freePort } from "../helpers/servers/free-port.ts";
import { type PrometheusServer, startPrometheus } from "../helpers/servers/prometheus.ts";
import {
  ALERTS_FILE,
  alertQueries,
  dashboardQueries,
  forPrometheus,
  isExported,
  metricFamilies,
  metricNames,
} from "./ops-queries.ts";
import { promtoolCheckMetrics } from "./promtool.ts";

const SCRAPE_DEADLINE_MS = 25_000;
const targetsFile = join(tmpdir(), `plantc-targets-${crypto.randomUUID()}.json`);
let prometheus: PrometheusServer;
let api: ChildProcess;
let worker: ChildProcess;
const workerPrefix = `test:${crypto.randomUUID()}:`;
let apiUrl: string;
/** As the API logs it: the full URL of its /metrics. */
let apiMetricsUrl: string;
let workerMetricsUrl: string;

/** The real entry point with a free metrics port (retried if another process takes it first). */
async function startApi(): Promise<{
  proc: ChildProcess;
  url: string;
  metricsUrl: string;
  metricsPort: number;
}> {
  for (let attempt = 1; ; attempt++) {
    const metricsPort = await freePort();
    const proc = spawnBun("src/main.ts", {
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
      DATABASE_URL: testEnv.databaseUrl,
      DATABASE_REPLICA_URL: testEnv.replicaUrl,
      REDIS_URL: testEnv.redisUrl,
      REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
      LOG_LEVEL: "info",
      SEED_ON_START: "false",
      MEDIA_DIR: join(tmpdir(), `plantc-media-${crypto.randomUUID()}`),
    });
    try {
      // Generous: on a machine busy with other suites a cold start has taken over 25 s.
      const listening = await proc.waitForLine(
        (l) => l.message === "api listening",
        "the API to listen",
        45_000,
      );
      const metrics = await proc.waitForLine((l) => l.message === "metrics listening", "the metrics port");
      return { proc, url: String(listening.url), metricsUrl: String(metrics.url), metricsPort };
    } catch (err) {
      await proc.stop();
      if (attempt >= 3) throw err;
    }
  }
}

/** A real worker process on the fast lane; it serves /metrics on a port the OS picks (WORKER_PORT=0). */
async function startWorker(): Promise<{ proc: ChildProcess; metricsUrl: string; port: number }> {
  const proc = spawnBun("workers/main.ts", {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    WORKER_PORT: "0",
    WORKER_QUEUES: "fast",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: workerPrefix,
    LOG_LEVEL: "info",
    MEDIA_DIR: join(tmpdir(), `plantc-media-${crypto.randomUUID()}`),
  });
  const ready = await proc
    .waitForLine((l) => l.message === "worker ready", "the worker to start", 45_000)
    .catch(async (err: unknown) => {
      await proc.stop(); // never leave a half-started worker behind
      throw err;
    });
  const healthz = new URL(String(ready.healthz));
  return { proc, metricsUrl: `${healthz.origin}/metrics`, port: Number(healthz.port) };
}

type PromSample = { metric: Record<string, string>; value: [number, string] };

async function promQuery(
  query: string,
): Promise<{ status: string; error?: string; data?: { result: PromSample[] } }> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  return (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
}

async function promValue(query: string): Promise<number | undefined> {
  const body = await promQuery(query);
  const sample = body.data?.result[0];
  return sample ? Number(sample.value[1]) : undefined;
}

beforeAll(async () => {
  await writeFile(targetsFile, "[]\n");
  // Prometheus first: its first scrape comes ~5-6 s after start, so it warms up while the API boots.
  const prometheusStarting = startPrometheus({ targetsFile, ruleFiles: [ALERTS_FILE] });
  const [started, startedWorker] = await Promise.all([startApi(), startWorker()]);
  api = started.proc;
  apiUrl = started.url;
  apiMetricsUrl = started.metricsUrl;
  worker = startedWorker.proc;
  workerMetricsUrl = startedWorker.metricsUrl;
  const targets = [
    { targets: [`127.0.0.1:${started.metricsPort}`], labels: { service: "api" } },
    { targets: [`127.0.0.1:${startedWorker.port}`], labels: { service: "worker" } },
  ];
  await writeFile(targetsFile, `${JSON.stringify(targets)}\n`);
  prometheus = await prometheusStarting;
}, 100_000);

afterAll(async () => {
  await Promise.allSettled([api?.stop(), worker?.stop(), prometheus?.stop()]);
  await rm(targetsFile, { force: true });
  const redis = new Redis(testEnv.redisUrl);
  const keys = await redis.keys(`*${workerPrefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("a real Prometheus scraping the API and a worker process", () => {
  test("finds the API and the worker up and counts the requests of a route the test called", async () => {
    const res = await fetch(`${apiUrl}/v1/species?limit=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(SpeciesPageSchema.parse(await res.json()).data.length).toBe(1);

    const up = await waitFor(async () => (await promValue('up{service="api"}')) === 1, {
      timeoutMs: SCRAPE_DEADLINE_MS,
      what: "Prometheus to scrape the API",
    });
    expect(up).toBe(true);
    const workerUp = await waitFor(async () => (await promValue('up{service="worker"}')) === 1, {
      timeoutMs: SCRAPE_DEADLINE_MS,
      what: "Prometheus to scrape the worker",
    });
    expect(workerUp).toBe(true);
    const requests = await waitFor(
      () =>
        promValue('sum(http_requests_total{service="api", method="GET", route="/v1/species", status="200"})'),
      { timeoutMs: SCRAPE_DEADLINE_MS, what: "http_requests_total for GET /v1/species in Prometheus" },
    );
    expect(requests).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test("logs one JSON line per request with the route pattern, status, duration and the caller's trace id", async () => {
    const traceId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
    const requestId = `obs-${crypto.randomUUID()}`;
    const res = await fetch(`${apiUrl}/v1/species/${crypto.randomUUID()}`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, "x-request-id": requestId },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const line = await api.waitForLine((l) => l.requestId === requestId, "the request's log line", 5_000);
    expect(line).toMatchObject({
      level: "info",
      message: "request",
      method: "GET",
      route: "/v1/species/:id",
      status: 404,
      traceId,
    });
    expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false);
    expect(typeof line.durationMs).toBe("number");
    expect(line).not.toHaveProperty("userId");
    expect(api.lines.filter((l) => l.requestId === requestId)).toHaveLength(1);
  });

  test("loads every alert rule and evaluates each without error", async () => {
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const expected = (await alertQueries()).length;
    const rules = await waitFor(
      async () => {
        const res = await fetch(`${prometheus.url}/api/v1/rules`);
        const body = (await res.json()) as { data: { groups: { rules: Rule[] }[] } };
        const all = body.data.groups.flatMap((g) => g.rules);
        return all.length === expected && all.every((r) => !r.lastEvaluation.startsWith("0001"))
          ? all
          : undefined;
      },
      { timeoutMs: 10_000, what: "every rule to be evaluated once" },
    );
    expect(rules?.length).toBe(expected);
    expect((rules ?? []).filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError}`)).toEqual(
      [],
    );
  }, 20_000);

  test("accepts every dashboard query as valid PromQL", async () => {
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const rejected: string[] = [];
    for (const q of queries) {
      const body = await promQuery(forPrometheus(q.expr));
      if (body.status !== "success") rejected.push(`${q.where}: ${body.error}`);
    }
    expect(rejected).toEqual([]);
  });
});

describe("the live /metrics output of the API and the worker", () => {
  const outputs = () => [
    { process: "api", url: apiMetricsUrl },
    { process: "worker", url: workerMetricsUrl },
  ];

  test("exports every metric that the dashboard and the alert rules query", async () => {
    const queries = [...(await dashboardQueries()), ...(await alertQueries())];
    // The extraction itself must find names, or the check below passes vacuously.
    expect(new Set(queries.flatMap((q) => metricNames(q.expr))).size).toBeGreaterThanOrEqual(25);
    for (const { process, url } of outputs()) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const families = metricFamilies(await res.text());
      const missing = queries.flatMap((q) =>
        metricNames(q.expr)
          .filter((n) => !isExported(n, families))
          .map((n) => `${process}: ${n} (${q.where})`),
      );
      expect(missing).toEqual([]);
    }
  });

  test("passes promtool check metrics", async () => {
    for (const { process, url } of outputs()) {
      const res = await fetch(url);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const result = await promtoolCheckMetrics(await res.text());
      expect(result.problems.map((p) => `${process}: ${p}`)).toEqual([]);
      expect(result.exitCode).toBe(0);
    }
  });
});
