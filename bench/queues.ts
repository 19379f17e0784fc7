/**
 * `bun run bench queues` (or `bun bench/queues.ts`): the lanes with real worker processes, Redis and PostgreSQL.
 * - head-of-line: the slow lane is saturated with 20-photo batches (provider simulator answering in 1 s, so each
 *   batch runs for tens of seconds) while notification.send jobs arrive on the fast lane every 10 ms; the fast
 *   worker logs each job's enqueue-to-start time -> p50/p95/p99/max.
 * - throughput: 5000 notification.send jobs (each an INSERT and a SELECT) drained by one fast worker process
 *   (slow worker stopped) -> jobs/s.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { ensureDatabase } from "../scripts/ensure-database.ts";
import { parseConfig } from "../src/config/index.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { seedSpecies } from "../src/db/seed.ts";
import { buildDeps, type Deps } from "../src/deps.ts";
import { groupmqNamespace } from "../src/infra/groupmq-keys.ts";
import { createLogger } from "../src/infra/logger.ts";
import { enqueue } from "../src/infra/queues.ts";
import { createBatchesService } from "../src/modules/identification-batches/batches.service.ts";
import { startWorkerProcess, type WorkerProcess } from "../tests/helpers/workers.ts";
import { DEFAULT_PLANT_ID_KEY, DEFAULT_PLANTNET_KEY } from "../tests/simulators/provider-simulator.ts";
import { fmt, startPinned } from "./lib.ts";

const DB_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/plant_community_bench";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SIM_LATENCY_MS = 1_000;
const BATCHES = 4;
const PHOTOS_PER_BATCH = 20;
const LATENCY_JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 300);
const LATENCY_GAP_MS = 10;
const THROUGHPUT_JOBS = Number(process.env.BENCH_QUEUE_THROUGHPUT_JOBS ?? 5_000);
const USERS = 50;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function photos(n: number): Promise<Uint8Array[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const buffer = await sharp({
        create: {
          width: 400,
          height: 300,
          channels: 3,
          background: { r: 30 + (i % 200), g: 120, b: (i * 7) % 255 },
        },
      })
        .jpeg()
        .toBuffer();
      return new Uint8Array(buffer);
    }),
  );
}

async function createUsers(deps: Deps): Promise<{ id: string; role: "user" }[]> {
  const users = Array.from({ length: USERS }, () => ({ id: Bun.randomUUIDv7(), role: "user" as const }));
  await deps.db.primary
    .insertInto("users")
    .values(
      users.map((u) => ({
        id: u.id,
        email: `bench-${u.id}@example.test`,
        password_hash: "-",
        display_name: "Bench",
      })),
    )
    .execute();
  return users;
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

export async function runQueueBench(): Promise<Record<string, number>> {
  await ensureDatabase(DB_URL);
  const mediaDir = await mkdtemp(join(tmpdir(), "plantc-bench-media-"));
  const sim = await startPinned("tests/simulators/main.ts", { core: 1, readyPath: "/__sim/calls" });
  const keyPrefix = `bench:${crypto.randomUUID()}:`;
  const env: Record<string, string> = {
    NODE_ENV: "development",
    DATABASE_URL: DB_URL,
    REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    // Workers say "worker ready" at info level; the fast worker below runs at debug for its per-job timings.
    LOG_LEVEL: "info",
    METRICS_PORT: "0",
    WORKER_PORT: "0",
    HOST: "127.0.0.1",
    STORAGE_DRIVER: "local",
    MEDIA_DIR: mediaDir,
    PLANT_ID_API_KEY: DEFAULT_PLANT_ID_KEY,
    PLANT_ID_BASE_URL: `${sim.url}/plant-id/v3`,
    PLANTNET_API_KEY: DEFAULT_PLANTNET_KEY,
    PLANTNET_BASE_URL: `${sim.url}/plantnet/v2`,
    QUEUE_SLOW_CONCURRENCY: "2",
  };
  const deps = await buildDeps(parseConfig(env), { logger: createLogger("silent") });
  const workers: WorkerProcess[] = [];
  try {
    await migrateToLatest(deps.db.primary);
    await seedSpecies(deps.db.primary);
    for (const provider of ["plant-id", "plant-id-health", "plantnet"]) {
      await fetch(`${sim.url}/__sim/control`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "setLatency", provider, ms: SIM_LATENCY_MS }),
      });
    }
    const users = await createUsers(deps);

    // 1. Saturate the slow lane with long batches.
    const batches = createBatchesService(deps);
    const images = await photos(BATCHES * PHOTOS_PER_BATCH);
    for (let b = 0; b < BATCHES; b++) {
      const batchPhotos = images
        .slice(b * PHOTOS_PER_BATCH, (b + 1) * PHOTOS_PER_BATCH)
        .map((bytes) => ({ bytes, contentType: "image/jpeg", filename: "p.jpg" }));
      const user = users[b]!;
      await batches.create(
        { userId: user.id, role: "user", actor: { kind: "system" }, clientKey: `user:${user.id}` },
        { photos: batchPhotos },
      );
    }
    workers.push(await startWorkerProcess({ ...env, WORKER_QUEUES: "slow" }));
    const slow = deps.queues.queue("slow");
    await waitUntil(async () => (await slow.getActiveCount()) === 2, "a saturated slow lane");

    // 2. Fast jobs arrive while the slow lane is full.
    const fast = await startWorkerProcess({ ...env, WORKER_QUEUES: "fast", LOG_LEVEL: "debug" });
    workers.push(fast);
    const runId = crypto.randomUUID().slice(0, 8);
    for (let i = 0; i < LATENCY_JOBS; i++) {
      const user = users[i % USERS]!;
      await enqueue(
        deps,
        "notification.send",
        { userId: user.id, key: `lat-${runId}-${i}`, kind: "bench.latency", title: "Bench" },
        { groupId: `user:${user.id}` },
      );
      await Bun.sleep(LATENCY_GAP_MS);
    }
    const started = () =>
      fast.lines.filter((l) => l.message === "job started" && l.job === "notification.send");
    await waitUntil(() => started().length >= LATENCY_JOBS, "the fast jobs to start", 60_000);
    const waits = started()
      .map((l) => Number(l.waitMs))
      .sort((a, b) => a - b);
    const slowActiveAfter = await slow.getActiveCount();
    const slowBatchesDone = Number(
      (
        await deps.db.primary
          .selectFrom("identification_batches")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where(
            "user_id",
            "in",
            users.slice(0, BATCHES).map((u) => u.id),
          )
          .where("status", "=", "completed")
          .executeTakeFirstOrThrow()
      ).n,
    );
    await fast.stop();
    // The throughput figure is the fast worker's own: the slow lane's CPU-heavy batches stop first.
    await workers.shift()?.stop();

    // 3. Throughput of one fast worker process: a backlog of jobs, drained from a cold start.
    const tpId = crypto.randomUUID().slice(0, 8);
    for (let i = 0; i < THROUGHPUT_JOBS; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, THROUGHPUT_JOBS - i) }, (_, j) => {
          const user = users[(i + j) % USERS]!;
          return enqueue(
            deps,
            "notification.send",
            { userId: user.id, key: `tp-${tpId}-${i + j}`, kind: "bench.throughput", title: "Bench" },
            { groupId: `tp:${i + j}` },
          );
        }),
      );
    }
    const countDone = async () =>
      Number(
        (
          await deps.db.primary
            .selectFrom("notifications")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("kind", "=", "bench.throughput")
            .where("dedupe_key", "like", `tp-${tpId}-%`)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const drainer = await startWorkerProcess({ ...env, WORKER_QUEUES: "fast" });
    workers.push(drainer);
    const t0 = performance.now();
    await waitUntil(async () => (await countDone()) >= THROUGHPUT_JOBS, "the backlog to drain", 300_000);
    const seconds = (performance.now() - t0) / 1000;

    const figures = {
      fastStartP50Ms: percentile(waits, 50),
      fastStartP95Ms: percentile(waits, 95),
      fastStartP99Ms: percentile(waits, 99),
      fastStartMaxMs: waits.at(-1) ?? Number.NaN,
      fastJobsMeasured: waits.length,
      slowActiveDuringMeasurement: slowActiveAfter,
      slowBatchesFinishedDuringMeasurement: slowBatchesDone,
      fastWorkerJobsPerSecond: THROUGHPUT_JOBS / seconds,
    };
    console.log(
      `fast lane while the slow lane is saturated (2 of ${BATCHES} batches of ${PHOTOS_PER_BATCH} photos running, provider latency ${SIM_LATENCY_MS} ms):\n` +
        `  enqueue-to-start over ${waits.length} notification.send jobs (one every ${LATENCY_GAP_MS} ms): ` +
        `p50 ${fmt(figures.fastStartP50Ms)} ms  p95 ${fmt(figures.fastStartP95Ms)} ms  p99 ${fmt(figures.fastStartP99Ms)} ms  max ${fmt(figures.fastStartMaxMs)} ms  (target p95 < 100 ms)\n` +
        `  slow jobs still running afterwards: ${slowActiveAfter}; batches finished meanwhile: ${slowBatchesDone}\n` +
        `one fast worker process (concurrency ${deps.config.queues.lanes.fast.concurrency}), ${THROUGHPUT_JOBS} notification.send jobs from a backlog: ` +
        `${fmt(figures.fastWorkerJobsPerSecond, 0)} jobs/s`,
    );
    return figures;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    const keys = await deps.queues.redis.keys(`${groupmqNamespace(keyPrefix)}*`);
    if (keys.length) await deps.queues.redis.del(...keys);
    const own = await deps.redis.cache.keys(`${keyPrefix}*`);
    if (own.length) await deps.redis.cache.del(...own);
    await deps.close();
    await sim.stop();
    await rm(mediaDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  await runQueueBench();
  process.exit(0);
}
