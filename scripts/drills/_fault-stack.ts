/**
 * The private stack the fault drills break: a throwaway PostgreSQL primary + streaming replica, the provider
 * simulator, Redis as the drill asks (a lone redis-server or a Sentinel group), optionally S3 (s3rver behind a
 * TCP proxy the drill can cut), the API and worker processes - all on loopback, all stopped by PID at the end.
 * Production settings unless a drill says otherwise, so the figures describe what an operator would see.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { identifyEnv, startSimulator } from "../../tests/helpers/identify.ts";
import { type ChildProcess, spawnBun } from "../../tests/helpers/process.ts";
import { type PgPair, startPgPair } from "../../tests/helpers/servers/pg-pair.ts";
import { startS3Server } from "../../tests/helpers/servers/s3.ts";
import type { ProviderSimulator } from "../../tests/simulators/provider-simulator.ts";
import { startTcpProxy, type TcpProxy } from "./_tcp-proxy.ts";

export type Api = ChildProcess & { url: string };
export type Worker = ChildProcess & { healthUrl: string; lanes: string };

export type FaultStack = {
  pg: PgPair;
  sim: ProviderSimulator;
  s3Proxy: TcpProxy | undefined;
  env: Record<string, string>;
  apis: Api[];
  workers: Worker[];
  startApi(extra?: Record<string, string>): Promise<Api>;
  startWorker(lanes: string, extra?: Record<string, string>): Promise<Worker>;
  /** Rows of `ids` per status, read from the primary (the source of truth). */
  statusOf(ids: string[]): Promise<Record<string, number>>;
  /** Completed-notification rows per identification (exactly-once check). */
  notificationsPer(ids: string[]): Promise<Map<string, number>>;
  stop(): Promise<void>;
};

export async function startFaultStack(opts: {
  redisEnv: Record<string, string>;
  s3?: boolean;
  env?: Record<string, string>;
}): Promise<FaultStack> {
  const pg = await startPgPair();
  const sim = startSimulator();
  const media = await mkdtemp(join(tmpdir(), "plantc-drill-media-"));
  let s3Stop: (() => Promise<void>) | undefined;
  let s3Proxy: TcpProxy | undefined;
  let s3Env: Record<string, string> = {};
  if (opts.s3) {
    const s3 = await startS3Server();
    s3Stop = s3.stop;
    s3Proxy = await startTcpProxy(Number(new URL(s3.endpoint).port));
    s3Env = {
      STORAGE_DRIVER: "s3",
      S3_ENDPOINT: `http://127.0.0.1:${s3Proxy.port}`,
      S3_BUCKET: s3.bucket,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
    };
  }
  const env: Record<string, string> = {
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    DATABASE_URL: pg.primaryUrl,
    DATABASE_REPLICA_URL: pg.replicaUrl,
    REDIS_KEY_PREFIX: `drill:${crypto.randomUUID()}:`,
    LOG_LEVEL: "info",
    METRICS_PORT: "0",
    // One signing key for every API process, as in production (outside it each process makes its own).
    JWT_SECRET: `drill-${crypto.randomUUID()}-${crypto.randomUUID()}`,
    // Cheap password hashing and no quotas: the drill measures faults, not argon2 or budgets.
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    PLANT_ID_DAILY_QUOTA: "0",
    PLANT_ID_HOURLY_QUOTA: "0",
    PLANTNET_DAILY_QUOTA: "0",
    PLANTNET_HOURLY_QUOTA: "0",
    RATE_LIMIT_IDENTIFY: "1000000/1m",
    RATE_LIMIT_REGISTER: "100000/1m",
    RATE_LIMIT_LOGIN_IP: "100000/1m",
    RATE_LIMIT_LOGIN_EMAIL: "100000/1m",
    RATE_LIMIT_DEFAULT: "1000000/1m",
    // Drill users do not confirm their address (the verification flow has its own tests).
    UNVERIFIED_IDENTIFICATION_ALLOWANCE: "100000000",
    // Load users identify far more than a person would: no per-user provider budget here.
    PROVIDER_BUDGET_USER_DAILY: "0",
    PROVIDER_BUDGET_PREMIUM_DAILY: "0",
    ...identifyEnv(sim, media),
    ...s3Env,
    ...opts.redisEnv,
    ...opts.env,
  };
  const sql = postgres(pg.primaryUrl, { max: 2, onnotice: () => {} });
  const apis: Api[] = [];
  const workers: Worker[] = [];
  const stack: FaultStack = {
    pg,
    sim,
    s3Proxy,
    env,
    apis,
    workers,
    async startApi(extra = {}) {
      const child = spawnBun("src/main.ts", { ...env, PORT: "0", ...extra });
      const line = await child.waitForLine((l) => l.message === "api listening", "the API", 60_000);
      const api = Object.assign(child, { url: String(line.url).replace("localhost", "127.0.0.1") });
      apis.push(api);
      return api;
    },
    async startWorker(lanes, extra = {}) {
      const child = spawnBun("workers/main.ts", { ...env, WORKER_QUEUES: lanes, WORKER_PORT: "0", ...extra });
      const line = await child.waitForLine((l) => l.message === "worker ready", "the worker", 60_000);
      const worker = Object.assign(child, { healthUrl: String(line.healthz), lanes });
      workers.push(worker);
      return worker;
    },
    async statusOf(ids) {
      if (ids.length === 0) return {};
      const rows = await sql<{ status: string; n: number }[]>`
        select status, count(*)::int as n from identifications where id = any(${ids}::uuid[]) group by status`;
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    async notificationsPer(ids) {
      const keys = ids.map((id) => `identification.completed:${id}`);
      const rows = await sql<{ key: string; n: number }[]>`
        select dedupe_key as key, count(*)::int as n from notifications where dedupe_key = any(${keys}) group by 1`;
      return new Map(rows.map((r) => [r.key.slice("identification.completed:".length), r.n]));
    },
    async stop() {
      await Promise.all([...apis, ...workers].map((p) => p.stop(5_000).catch(() => {})));
      await sql.end({ timeout: 1 }).catch(() => {});
      await sim.stop();
      s3Proxy?.close();
      await s3Stop?.();
      await pg.stop();
      await rm(media, { recursive: true, force: true });
    },
  };
  return stack;
}
