/**
 * The private stack of the database and provider drills (primary-down, replica-down, replica-lag,
 * provider-down, provider-hanging): its own PostgreSQL primary + replica, its own redis-server, the provider
 * simulator, the API and (when asked) workers as real processes, all on loopback, all stopped by PID.
 * Files starting with `_` are not drills (scripts/drill.ts skips them).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { Lane } from "../../src/infra/queues.ts";
import { freePort } from "../../tests/helpers/servers/free-port.ts";
import type { PgPair } from "../../tests/helpers/servers/pg-pair.ts";
import { startMigratedPgPair } from "../../tests/helpers/servers/private-pg.ts";
import { DEFAULT_PLANT_ID_KEY, DEFAULT_PLANTNET_KEY } from "../../tests/simulators/provider-simulator.ts";
import { registerAndSignIn } from "./_load.ts";

const ROOT = join(import.meta.dir, "../..");

type Proc = { name: string; proc: ReturnType<typeof Bun.spawn> };

export type DrillStack = {
  pair: PgPair;
  apiUrl: string;
  metricsUrl: string;
  simControl(command: object): Promise<void>;
  register(): Promise<{ token: string; userId: string }>;
  /** Directory of every process's log; stop(true) keeps it for a look after a failed drill. */
  logDir: string;
  stop(keepLogs?: boolean): Promise<void>;
};

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const answers = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;

export async function startDrillStack(
  opts: { workers?: Lane[]; env?: Record<string, string> } = {},
): Promise<DrillStack> {
  const logDir = await mkdtemp(join(tmpdir(), "plantc-drill-"));
  const mediaDir = join(logDir, "media");
  const procs: Proc[] = [];
  let pair: PgPair | undefined;

  const spawn = (name: string, cmd: string[], env: Record<string, string>) => {
    const proc = Bun.spawn(cmd, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
      stdin: "ignore",
      stdout: Bun.file(join(logDir, `${name}.log`)),
      stderr: Bun.file(join(logDir, `${name}.err.log`)),
    });
    procs.push({ name, proc });
    return proc;
  };

  const stop = async (keepLogs = false) => {
    // Workers and API first (they drain), then what they depend on.
    for (const p of [...procs].reverse()) p.proc.kill("SIGTERM");
    await Promise.all(procs.map((p) => Promise.race([p.proc.exited, Bun.sleep(8_000)])));
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    await pair?.stop();
    if (keepLogs) process.stderr.write(`drill logs kept in ${logDir}\n`);
    else await rm(logDir, { recursive: true, force: true });
  };

  try {
    const [redisPort, simPort, apiPort, metricsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    spawn(
      "redis",
      [
        "redis-server",
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      {},
    );
    spawn("simulator", [process.execPath, "tests/simulators/main.ts"], {
      PORT: String(simPort),
      HOST: "127.0.0.1",
    });
    // Durable commits: a crash of the primary must not lose acknowledged work, or "lost" would measure the
    // test cluster's settings instead of the API.
    pair = await startMigratedPgPair({ durableCommits: true });
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    await waitUntil("redis-server", 10_000, async () => {
      const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await client.connect();
        return (await client.ping()) === "PONG";
      } finally {
        client.disconnect();
      }
    });
    const simUrl = `http://127.0.0.1:${simPort}`;
    await waitUntil("the provider simulator", 15_000, answers(`${simUrl}/__sim/calls`));

    const common: Record<string, string> = {
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      DATABASE_URL: pair.primaryUrl,
      DATABASE_REPLICA_URL: pair.replicaUrl,
      REDIS_URL: redisUrl,
      LOG_LEVEL: "info",
      STORAGE_DRIVER: "local",
      MEDIA_DIR: mediaDir,
      JWT_SECRET: `drill-${crypto.randomUUID()}`,
      PLANT_ID_API_KEY: DEFAULT_PLANT_ID_KEY,
      PLANT_ID_BASE_URL: `${simUrl}/plant-id/v3`,
      PLANTNET_API_KEY: DEFAULT_PLANTNET_KEY,
      PLANTNET_BASE_URL: `${simUrl}/plantnet/v2`,
      PLANT_ID_DAILY_QUOTA: "0",
      PLANT_ID_HOURLY_QUOTA: "0",
      PLANTNET_DAILY_QUOTA: "0",
      PLANTNET_HOURLY_QUOTA: "0",
      RATE_LIMIT_IDENTIFY: "1000000/1m",
      RATE_LIMIT_REGISTER: "100000/1m",
      RATE_LIMIT_DEFAULT: "1000000/1m",
      RATE_LIMIT_LOGIN_IP: "100000/1m",
      // Drill users do not confirm their address (the verification flow has its own tests).
      UNVERIFIED_IDENTIFICATION_ALLOWANCE: "100000000",
      // Load users identify far more than a person would: no per-user provider budget here.
      PROVIDER_BUDGET_USER_DAILY: "0",
      PROVIDER_BUDGET_PREMIUM_DAILY: "0",
      ...opts.env,
    };
    spawn("api", [process.execPath, "src/main.ts"], {
      ...common,
      PORT: String(apiPort),
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: "127.0.0.1",
    });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitUntil("the API", 60_000, answers(`${apiUrl}/health`));
    if (opts.workers?.length) {
      const workerPort = await freePort();
      spawn("worker", [process.execPath, "workers/main.ts"], {
        ...common,
        WORKER_QUEUES: opts.workers.join(","),
        WORKER_PORT: String(workerPort),
        METRICS_PORT: "0",
        QUEUE_DEFAULT_BACKOFF_MS: "200",
        QUEUE_FAST_BACKOFF_MS: "100",
      });
      await waitUntil("the worker", 60_000, answers(`http://127.0.0.1:${workerPort}/healthz`));
    }

    return {
      pair,
      apiUrl,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      logDir,
      async simControl(command) {
        const res = await fetch(`${simUrl}/__sim/control`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(command),
        });
        if (!res.ok) throw new Error(`simulator control answered ${res.status}`);
      },
      async register() {
        const body = await registerAndSignIn(apiUrl, {
          email: `drill-${crypto.randomUUID()}@example.test`,
          password: `pw-${crypto.randomUUID()}`,
        });
        return { token: body.accessToken, userId: body.user.id };
      },
      stop,
    };
  } catch (err) {
    process.stderr.write(`drill stack failed to start; logs in ${logDir}\n`);
    for (const p of procs) p.proc.kill("SIGKILL");
    await pair?.stop();
    throw err;
  }
}

/** A Prometheus counter or gauge from the API's /metrics, summed over the series matching `labels`. */
export async function metricValue(metricsUrl: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || line.startsWith("#")) continue;
    const [series, value] = line.split(/\s+/);
    if (!series || (series !== name && !series.startsWith(`${name}{`))) continue;
    if (labels && !series.includes(labels)) continue;
    sum += Number(value);
  }
  return sum;
}
