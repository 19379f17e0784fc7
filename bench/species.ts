/**
 * GET /v1/species/{id} through the whole middleware stack, against two reference servers returning the same
 * bytes: a bare Bun.serve (the HTTP ceiling) and Bun.serve + one postgres.js query (the database ceiling).
 * Servers run on core 0, the load generators on core 1.
 */
import { loadavg } from "node:os";
import { ensureDatabase } from "../scripts/ensure-database.ts";
import { documentedSecrets, dummySecret, readFlyToml } from "../tests/helpers/fly-files.ts";
import { freePort } from "../tests/helpers/servers/free-port.ts";
import { coldStarts } from "./cold-start.ts";
import { apiEntry, ensureTool, fmt, type LoadResult, paced, type Started, startPinned, wrk } from "./lib.ts";
import { sampleUsage } from "./proc-stats.ts";

const DB_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/plant_community_bench";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;
const PACED_RATE = 2_000;

const load = () => loadavg()[0]!.toFixed(1);

/**
 * The API's environment on Fly (fly.toml [env] plus the README's secrets, dummy values) with this machine's
 * Postgres and Redis: the configuration whose start the cold-start target is about. In production the API does
 * not migrate (the release command does) and starts its metrics server. The S3 endpoint is unreachable on
 * purpose: nothing may call it before the first answer.
 */
export async function productionEnv(): Promise<Record<string, string>> {
  const fly = readFlyToml();
  const { PORT: _port, ...env } = fly.env;
  return {
    ...env,
    ...Object.fromEntries(documentedSecrets().map((name) => [name, dummySecret(name)])),
    DATABASE_URL: DB_URL,
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    // Keys of their own: the throughput runs before (same default prefix, limits lifted) leave this client's
    // rate-limit counters far past production's limit, and every cold start's first request would be a 429.
    REDIS_KEY_PREFIX: `bench-cold:${crypto.randomUUID()}:`,
    S3_ENDPOINT: "http://127.0.0.1:9",
    METRICS_PORT: String(await freePort()),
  };
}

async function measure(name: string, server: Started, path: string) {
  const url = `${server.url}${path}`;
  wrk(url, { core: 1, connections: CONNECTIONS, seconds: 2 }); // warm-up: JIT, pools, prepared statements
  const usage = sampleUsage({ server: server.pid }, 250);
  const closed = wrk(url, { core: 1, connections: CONNECTIONS, seconds: SECONDS });
  const open = paced(url, { core: 1, rate: PACED_RATE, workers: 50, seconds: SECONDS });
  const { peakRssMb } = usage.stop().server!;
  console.log(
    `${name.padEnd(26)} ${fmt(closed.rps, 0).padStart(8)} req/s  p50 ${fmt(closed.p50Ms, 2)} ms  p99 ${fmt(closed.p99Ms, 2)} ms` +
      `  | paced ${PACED_RATE}/s: ${fmt(open.rps, 0)} req/s p50 ${fmt(open.p50Ms, 2)} ms p99 ${fmt(open.p99Ms, 2)} ms` +
      (closed.errors + open.errors ? `  errors ${closed.errors + open.errors}` : "") +
      `  | peak RSS ${fmt(peakRssMb, 0)} MB  (load avg ${load()})`,
  );
  return { closed, open, peakRssMb };
}

export async function runSpeciesBench(): Promise<Record<string, number>> {
  ensureTool("wrk");
  ensureTool("hey");
  await ensureDatabase(DB_URL);
  // One load generator is one client: lift its limit so the limiter does its Redis work but never refuses.
  const apiEnv = {
    DATABASE_URL: DB_URL,
    LOG_LEVEL: "info",
    NODE_ENV: "development",
    METRICS_PORT: "0",
    RATE_LIMIT_DEFAULT: "1000000000/1m",
  };

  const api = await apiEntry(); // the production bundle (scripts/build.ts), built from the current sources
  // Start once to migrate + seed and to learn a species id and its exact bytes.
  const probe = await startPinned(api, { core: 0, env: apiEnv, readyPath: "/health" });
  const list = (await (await fetch(`${probe.url}/v1/species?q=monstera%20deliciosa`)).json()) as {
    data: { id: string }[];
  };
  const id = list.data[0]!.id;
  const path = `/v1/species/${id}`;
  const body = await (await fetch(`${probe.url}${path}`)).text();
  await probe.stop();

  console.log(
    `\nGET ${path} (${body.length} bytes), ${CONNECTIONS} connections, ${SECONDS} s per run, 2 cores`,
  );
  const results: Record<string, { closed: LoadResult; open: LoadResult; peakRssMb: number }> = {};
  const scenarios: [string, string, Record<string, string>][] = [
    ["reference: bare Bun.serve", "bench/reference-http.ts", { BENCH_BODY: body }],
    ["reference: Bun + postgres", "bench/reference-db.ts", { DATABASE_URL: DB_URL, BENCH_SPECIES_ID: id }],
    ["api: cached (Redis)", api, { ...apiEnv, SEED_ON_START: "false" }],
    ["api: uncached (database)", api, { ...apiEnv, SEED_ON_START: "false", SPECIES_CACHE_TTL_SECONDS: "0" }],
  ];
  for (const [name, script, env] of scenarios) {
    const server = await startPinned(script, { core: 0, env, readyPath: path });
    try {
      results[name] = await measure(name, server, path);
    } finally {
      await server.stop();
    }
  }
  // Cold start: spawn to the first answered GET of the species (connections included), beside a bare Bun.serve
  // spawned the same way, so a loaded machine shows in the reference too. The target is the API as it runs in
  // production; the development start (which also checks for pending migrations) is printed under it.
  const coldEnv = { ...apiEnv, SEED_ON_START: "false" };
  const coldRef = await coldStarts("bench/reference-http.ts", { core: 0, env: { BENCH_BODY: body }, path });
  const coldApi = await coldStarts(api, { core: 0, env: await productionEnv(), path });
  const coldApiDev = await coldStarts(api, { core: 0, env: coldEnv, path });
  const coldSources = await coldStarts("src/main.ts", { core: 0, env: coldEnv, path });
  const cpu = (c: { cpuMs: number; mainThreadCpuMs: number }) =>
    `CPU ${fmt(c.cpuMs, 0)} ms (main thread ${fmt(c.mainThreadCpuMs, 0)} ms)`;
  console.log(
    `cold start to first answer: api (production bundle, production configuration) median ${fmt(coldApi.medianMs, 0)} ms` +
      ` (fastest ${fmt(coldApi.minMs, 0)} ms; target < 200 ms), ${cpu(coldApi)}` +
      `\n  development configuration (+ migration check) median ${fmt(coldApiDev.medianMs, 0)} ms, ${cpu(coldApiDev)};` +
      ` from its sources (npm start) ${fmt(coldSources.medianMs, 0)} ms;` +
      ` bare Bun.serve median ${fmt(coldRef.medianMs, 0)} ms, ${cpu(coldRef)}  (load avg ${load()})`,
  );

  const http = results["reference: bare Bun.serve"]!;
  const db = results["reference: Bun + postgres"]!;
  const cached = results["api: cached (Redis)"]!;
  const uncached = results["api: uncached (database)"]!;
  const figures = {
    cachedVsHttpCeiling: cached.closed.rps / http.closed.rps,
    uncachedVsDbCeiling: uncached.closed.rps / db.closed.rps,
    cachedPacedP99VsHttp: cached.open.p99Ms / http.open.p99Ms,
    uncachedPacedP99VsDb: uncached.open.p99Ms / db.open.p99Ms,
    coldStartMs: coldApi.medianMs,
    coldStartCpuMs: coldApi.cpuMs,
    apiPeakRssMb: Math.max(cached.peakRssMb, uncached.peakRssMb),
  };
  console.log(
    `\ncached throughput   = ${fmt(figures.cachedVsHttpCeiling * 100)}% of the HTTP ceiling (target >= 35%)` +
      `\nuncached throughput = ${fmt(figures.uncachedVsDbCeiling * 100)}% of the database ceiling (target >= 70%)` +
      `\npaced p99: cached ${fmt(figures.cachedPacedP99VsHttp, 2)}x the HTTP reference, uncached ${fmt(figures.uncachedPacedP99VsDb, 2)}x the database reference (target <= 1.5x)` +
      `\ncold start to first answered request = ${fmt(figures.coldStartMs, 0)} ms median (target < 200 ms), CPU ${fmt(figures.coldStartCpuMs, 0)} ms` +
      `\napi RSS under load  = ${fmt(figures.apiPeakRssMb, 0)} MB peak (target < 150 MB)` +
      `\nload average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} on ${navigator.hardwareConcurrency} cores (other work shares the machine)`,
  );
  return figures;
}

if (import.meta.main) await runSpeciesBench();
