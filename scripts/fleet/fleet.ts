/**
 * A local fleet that behaves like the Fly deployment: two API instances and one worker per lane, in their
 * production configuration (fly.toml's [env] + the documented secrets), behind haproxy, sharing a PostgreSQL
 * primary + streaming replica, a Redis, an S3 server, an SMTP server and the provider simulator (https).
 * Used by `bun run fleet`, tests/deploy/fleet.test.ts and `bun run bench fleet`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { APP_ROOT } from "../../src/app-root.ts";
import { LANES, type Lane } from "../../src/config/queues.ts";
import { readFlyToml, splitProcessCommand } from "../../tests/helpers/fly-files.ts";
import { seedCatalogue } from "../../tests/helpers/identify.ts";
import { LIVE_PROVIDER_KEYS, productionEnv } from "../../tests/helpers/production-env.ts";
import { freePort } from "../../tests/helpers/servers/free-port.ts";
import { postmasterPid } from "../../tests/helpers/servers/pg-cluster.ts";
import { type PgPair, startPgPair } from "../../tests/helpers/servers/pg-pair.ts";
import { type S3Server, startS3Server } from "../../tests/helpers/servers/s3.ts";
import { startSmtpServer, type TestSmtpServer } from "../../tests/helpers/smtp.ts";
import { selfSignedCertificate, type TestCertificate } from "../../tests/helpers/tls.ts";
import { type ProviderSimulator, startProviderSimulator } from "../../tests/simulators/provider-simulator.ts";
import { BUNDLE_FILE, buildBundle } from "../build.ts";
import { type Haproxy, startHaproxy } from "./haproxy.ts";
import { type FleetProcess, startProcess } from "./processes.ts";
import { type RedisServer, startRedisServer } from "./redis.ts";

export type FleetOptions = {
  apiInstances?: number;
  /** Extra environment for every process (rate limits, breaker thresholds, pool sizes...). */
  env?: Record<string, string>;
  /** How long a SIGTERMed API instance keeps serving with /health at 503 (haproxy checks every 200 ms). */
  drainDelayMs?: number;
  log?: (line: string) => void;
};

export type ApiInstance = { name: string; port: number; url: string; process: FleetProcess };

export type Fleet = {
  /** haproxy: where clients go. */
  url: string;
  apis: ApiInstance[];
  workers: Record<Lane, FleetProcess>;
  sim: ProviderSimulator;
  haproxy: Haproxy;
  databaseUrl: string;
  redisUrl: string;
  logDir: string;
  /** Every process of the fleet by name (API instances, workers, haproxy, redis, PostgreSQL postmasters). */
  pids(): Record<string, number>;
  /** SIGTERM one API instance, wait for its exit, start it again, wait until haproxy routes to it again. */
  restartApi(index: number): Promise<void>;
  stop(): Promise<void>;
};

export async function startFleet(opts: FleetOptions = {}): Promise<Fleet> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const logDir = await mkdtemp(join(tmpdir(), "plantc-fleet-"));
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const cert: TestCertificate = await selfSignedCertificate();
    stops.push(() => cert.remove());
    const [pg, s3, redis, smtp]: [PgPair, S3Server, RedisServer, TestSmtpServer] = await Promise.all([
      startPgPair(),
      startS3Server({ bucket: "plant-media" }),
      startRedisServer(),
      startSmtpServer(),
    ]);
    stops.push(
      () => pg.stop(),
      () => s3.stop(),
      () => redis.stop(),
      () => smtp.stop(),
    );
    const sim = startProviderSimulator({
      catalogue: seedCatalogue,
      plantIdKey: LIVE_PROVIDER_KEYS.plantId,
      plantnetKey: LIVE_PROVIDER_KEYS.plantnet,
      tls: { cert: cert.cert, key: cert.key },
    });
    stops.push(() => sim.stop());
    log(`servers up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const fly = readFlyToml();
    // fly.toml's commands, run as Fly runs them, on a bundle built from the current sources for this fleet
    // (its own directory: fleets started side by side never rebuild each other's).
    const bundleDir = join(APP_ROOT, "dist", `fleet-${crypto.randomUUID().slice(0, 8)}`);
    stops.push(() => rm(bundleDir, { recursive: true, force: true }));
    const bundle = await buildBundle(bundleDir);
    const argvOf = (command: string) =>
      splitProcessCommand(command)
        .argv.slice(1)
        .map((a) => (a === BUNDLE_FILE ? bundle : a));
    log(`bundle built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const apiPorts = await Promise.all(Array.from({ length: opts.apiInstances ?? 2 }, () => freePort()));
    const base = {
      ...productionEnv({
        databaseUrl: pg.primaryUrl,
        replicaUrl: pg.replicaUrl,
        redisUrl: redis.url,
        redisKeyPrefix: "pc:",
        s3,
        providers: {
          plantIdBaseUrl: sim.plantIdBaseUrl,
          plantnetBaseUrl: sim.plantnetBaseUrl,
          caPath: cert.certPath,
        },
        smtpUrl: smtp.url,
        publicBaseUrl: `http://127.0.0.1:${apiPorts[0]}`,
      }),
      SHUTDOWN_DRAIN_DELAY_MS: String(opts.drainDelayMs ?? 3_000),
      ...opts.env,
    };

    // The release command, as Fly runs it before a deploy: DATABASE_URL only.
    const release = Bun.spawnSync([process.execPath, ...argvOf(fly.deploy.release_command)], {
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATABASE_URL: pg.primaryUrl },
      stdout: "pipe",
      stderr: "pipe",
    });
    if (release.exitCode !== 0) throw new Error(`release command failed: ${release.stderr.toString()}`);
    log(`release: ${release.stdout.toString().trim().split("\n").pop()}`);

    const startApi = async (i: number): Promise<ApiInstance> => {
      const port = apiPorts[i] as number;
      const name = `api${i + 1}`;
      const process = await startProcess({
        name,
        argv: argvOf(fly.processes.app as string),
        env: { ...base, PORT: String(port), METRICS_PORT: String(await freePort()) },
        readyUrl: `http://127.0.0.1:${port}/ready`,
        logDir,
      });
      return { name, port, url: `http://127.0.0.1:${port}`, process };
    };
    const startWorker = async (lane: Lane): Promise<FleetProcess> => {
      const port = await freePort();
      const command = splitProcessCommand(fly.processes[`worker_${lane}`] as string);
      return startProcess({
        name: `worker-${lane}`,
        argv: argvOf(fly.processes[`worker_${lane}`] as string),
        env: { ...base, ...command.env, WORKER_PORT: String(port) },
        readyUrl: `http://127.0.0.1:${port}/healthz`,
        logDir,
      });
    };

    const apis = await Promise.all(apiPorts.map((_, i) => startApi(i)));
    stops.push(() => Promise.all(apis.map((a) => a.process.stop())));
    const workerList = await Promise.all(LANES.map((lane) => startWorker(lane)));
    stops.push(() => Promise.all(workerList.map((w) => w.stop())));
    const workers = Object.fromEntries(LANES.map((lane, i) => [lane, workerList[i]])) as Record<
      Lane,
      FleetProcess
    >;

    const haproxy = await startHaproxy(apis.map((a) => ({ name: a.name, port: a.port })));
    stops.push(() => haproxy.stop());
    let lastStates: Record<string, string> = {};
    const allUp = async () => {
      lastStates = await haproxy.serverStates();
      return apis.every((a) => lastStates[a.name] === "UP");
    };
    await waitUntil(allUp, 30_000, "haproxy to see every API instance UP").catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(lastStates)}`);
    });
    log(
      `fleet up in ${((performance.now() - started) / 1000).toFixed(1)} s: ${haproxy.url} (logs in ${logDir})`,
    );

    return {
      url: haproxy.url,
      apis,
      workers,
      sim,
      haproxy,
      databaseUrl: pg.primaryUrl,
      redisUrl: redis.url,
      logDir,
      pids() {
        return {
          ...Object.fromEntries(apis.map((a) => [a.name, a.process.pid])),
          ...Object.fromEntries(LANES.map((lane) => [`worker-${lane}`, workers[lane].pid])),
          haproxy: haproxy.pid,
          redis: redis.pid,
          "pg-primary": postmasterPid(join(pg.baseDir, "primary")) ?? 0,
          "pg-replica": postmasterPid(join(pg.baseDir, "replica")) ?? 0,
        };
      },
      async restartApi(index) {
        const old = apis[index] as ApiInstance;
        await old.process.stop(30_000);
        apis[index] = await startApi(index);
        await waitUntil(allUp, 30_000, `haproxy to route to ${old.name} again`).catch((err: Error) => {
          throw new Error(`${err.message}: ${JSON.stringify(lastStates)}`);
        });
      },
      async stop() {
        await stopAll();
        await rm(logDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    await rm(logDir, { recursive: true, force: true });
    throw err;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
