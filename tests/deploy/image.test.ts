/**
 * The production image, built from the Dockerfile unchanged (buildah, stand-in Bun base image) and run as
 * containers in its production configuration against the test run's real PostgreSQL pair, Redis, S3 server,
 * an SMTP server and the provider simulator over https: the release command, the API and one worker per lane,
 * each started with its command from fly.toml.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { RUNTIME_PACKAGES } from "../../scripts/build.ts";
import { type BuiltImage, buildImage } from "../../scripts/image/build.ts";
import { run } from "../../scripts/image/containers.ts";
import { packageSizes } from "../../scripts/image/package-sizes.ts";
import { groupmqNamespace } from "../../src/infra/groupmq-keys.ts";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { NotificationPageSchema } from "../../src/modules/notifications/notifications.schemas.ts";
import { LivenessSchema, ReadinessSchema } from "../../src/modules/system/system.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { type Container, runToEnd, startContainer } from "../helpers/containers.ts";
import { testEnv } from "../helpers/env.ts";
import { readFlyToml, splitProcessCommand } from "../helpers/fly-files.ts";
import { seedCatalogue, uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { LIVE_PROVIDER_KEYS, productionEnv } from "../helpers/production-env.ts";
import { freePort } from "../helpers/servers/free-port.ts";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";
import { selfSignedCertificate, type TestCertificate } from "../helpers/tls.ts";
import { type ProviderSimulator, startProviderSimulator } from "../simulators/provider-simulator.ts";

const run_id = crypto.randomUUID().slice(0, 8);
const tag = `localhost/plant-community-api:test-${run_id}`;
const database = `plantc_image_${run_id}`;
const fly = readFlyToml();
const CA_IN_CONTAINER = "/run/plantc/provider-ca.pem";
const LANES = ["fast", "default", "slow", "priority"] as const;

let built: BuiltImage;
let cert: TestCertificate;
let sim: ProviderSimulator;
let smtp: TestSmtpServer;
let env: Record<string, string>;
let admin: postgres.Sql;
let apiUrl: string;
const release: { code: number; output: string }[] = [];
const containers: Container[] = [];
const workerHealth: Record<string, string> = {};
let startToReadyMs = 0;
let processStartupMs = Number.NaN;

const dbUrl = (base: string) => {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
};
const spec = (name: string, command: string[], extra: Record<string, string> = {}) => ({
  name: `plantc-img-${run_id}-${name}`,
  image: tag,
  env: { ...env, ...extra },
  command,
  volumes: [`${cert.certPath}:${CA_IN_CONTAINER}:ro`],
});

beforeAll(async () => {
  built = await buildImage(tag);
  console.log(
    `[image] ${(built.sizeBytes / 1e6).toFixed(1)} MB (target <= 250 MB); app build ${built.buildSeconds.toFixed(1)} s; base image ${built.baseAction} in ${built.baseSeconds.toFixed(1)} s`,
  );
  const modules = await packageSizes(tag);
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  console.log(
    `[image] node_modules ${mib(modules.totalBytes)} MiB; largest: ${modules.packages
      .slice(0, 6)
      .map((p) => `${p.name} ${mib(p.bytes)}`)
      .join(", ")}`,
  );
  cert = await selfSignedCertificate();
  sim = startProviderSimulator({
    catalogue: seedCatalogue,
    plantIdKey: LIVE_PROVIDER_KEYS.plantId,
    plantnetKey: LIVE_PROVIDER_KEYS.plantnet,
    tls: { cert: cert.cert, key: cert.key },
  });
  smtp = await startSmtpServer();
  admin = postgres(testEnv.databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  env = {
    ...productionEnv({
      databaseUrl: dbUrl(testEnv.databaseUrl),
      replicaUrl: dbUrl(testEnv.replicaUrl),
      redisUrl: testEnv.redisUrl,
      redisKeyPrefix: `plantc-img-${run_id}:`,
      s3: testEnv.s3,
      providers: {
        plantIdBaseUrl: sim.plantIdBaseUrl,
        plantnetBaseUrl: sim.plantnetBaseUrl,
        caPath: CA_IN_CONTAINER,
      },
      smtpUrl: smtp.url,
      publicBaseUrl: apiUrl,
    }),
    PORT: String(port),
    METRICS_PORT: String(await freePort()),
  };

  // Fly's release Machine: DATABASE_URL and the image's own environment, nothing else. Twice: idempotent.
  const releaseArgv = splitProcessCommand(fly.deploy.release_command).argv;
  for (const attempt of [1, 2]) {
    const r = await runToEnd({
      ...spec(`release-${attempt}`, releaseArgv),
      env: { DATABASE_URL: env.DATABASE_URL as string },
    });
    release.push(r);
    if (r.code !== 0) throw new Error(`release command failed:\n${r.output}`);
  }

  const started = performance.now();
  const api = await startContainer(spec("api", (fly.processes.app as string).split(/\s+/)));
  containers.push(api);
  await waitFor(async () => (await fetch(`${apiUrl}/ready`).catch(() => undefined))?.status === 200, {
    timeoutMs: 90_000,
    what: "the API container to be ready",
  }).catch(async (err) => {
    throw new Error(`${(err as Error).message}\n${await api.logs()}`);
  });
  startToReadyMs = performance.now() - started;
  // Info lines are written in batches (LOG_FLUSH_INTERVAL_MS): wait for the line rather than read too early.
  let listening: string | undefined;
  await waitFor(
    async () => {
      listening = (await api.logs()).split("\n").find((l) => l.includes('"api listening"'));
      return listening !== undefined;
    },
    { timeoutMs: 10_000, what: "the API container's listening line" },
  );
  processStartupMs = Number((JSON.parse(listening ?? "{}") as { startupMs?: number }).startupMs);

  await Promise.all(
    LANES.map(async (lane) => {
      const workerPort = await freePort();
      const command = (fly.processes[`worker_${lane}`] as string).split(/\s+/);
      const c = await startContainer(spec(`worker-${lane}`, command, { WORKER_PORT: String(workerPort) }));
      containers.push(c);
      workerHealth[lane] = `http://127.0.0.1:${workerPort}/healthz`;
      await waitFor(async () => (await fetch(workerHealth[lane] as string).catch(() => undefined))?.ok, {
        timeoutMs: 90_000,
        what: `the ${lane} worker container to be healthy`,
      }).catch(async (err) => {
        throw new Error(`${(err as Error).message}\n${await c.logs()}`);
      });
    }),
  );
}, 30 * 60_000);

afterAll(async () => {
  await Promise.allSettled(containers.map((c) => c.remove()));
  await run(["podman", "rmi", tag], { allowFailure: true }); // the tag only: cached layers stay for the next run
  const redis = new (await import("ioredis")).Redis(testEnv.redisUrl);
  for (const pattern of [`plantc-img-${run_id}:*`, `${groupmqNamespace(`plantc-img-${run_id}:`)}*`]) {
    const keys = await redis.keys(pattern);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
  if (admin) {
    await admin.unsafe(`drop database if exists ${database} with (force)`).catch(() => {});
    await admin.end({ timeout: 2 });
  }
  await Promise.allSettled([sim?.stop(), smtp?.stop(), cert?.remove()]);
}, 120_000);

describe("the production image", () => {
  test("is built from the Dockerfile with the bundle, only the modules it leaves out, the docs bundle, and runs as bun (uid 1000)", async () => {
    expect(built.sizeBytes).toBeGreaterThan(0);
    const check = await run([
      "podman",
      "run",
      "--rm",
      "--network",
      "none",
      tag,
      "sh",
      "-c",
      "id -u; test ! -e node_modules/typescript && test ! -e node_modules/@scalar/api-reference && test ! -e node_modules/@biomejs && test -s dist/docs/scalar-api-reference.js && test -s dist/app/main.js && test -s dist/app/main.js.jsc && test ! -e src && test ! -e migrations && test ! -e tests && test ! -e .git && echo clean",
    ]);
    expect(check.stdout.trim().split("\n")).toEqual(["1000", "clean"]);

    // No package the lockfile marks dev-only (or only reached through dev dependencies) is installed.
    const listed = await run([
      "podman",
      "run",
      "--rm",
      "--network",
      "none",
      tag,
      "sh",
      "-c",
      "cd node_modules && ls -d * @*/*",
    ]);
    const lock = (await Bun.file(`${import.meta.dir}/../../package-lock.json`).json()) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
    };
    const installed = listed.stdout
      .trim()
      .split(/\s+/)
      .filter((name) => !name.endsWith("*"));
    // The bundle carries every other module: only what it leaves to node_modules is installed, and what that needs.
    expect(installed).toEqual(expect.arrayContaining([...RUNTIME_PACKAGES]));
    for (const bundled of ["hono", "zod", "kysely", "ioredis", "graphql", "@aws-sdk/client-s3"])
      expect(installed).not.toContain(bundled);
    const devOnly = installed.filter((name) => {
      const entry = lock.packages[`node_modules/${name}`];
      return entry?.dev === true || entry?.devOptional === true;
    });
    expect(devOnly).toEqual([]);
  });

  test("the release command migrates a fresh database and loads the catalogue, and a second run changes nothing", async () => {
    expect(release.map((r) => r.code)).toEqual([0, 0]);
    expect(release[0]?.output).toContain(
      `species catalogue: ${seedCatalogue.length} species, ${seedCatalogue.length} inserted or changed`,
    );
    expect(release[1]?.output).toContain("nothing to do");
    expect(release[1]?.output).toContain(
      `species catalogue: ${seedCatalogue.length} species, 0 inserted or changed`,
    );
    const res = await fetch(`${apiUrl}/v1/species?limit=5`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
  });

  test("the API container answers /health and /ready, serves the docs bundle, and its HEALTHCHECK passes", async () => {
    console.log(
      `[image] API container start-to-ready ${startToReadyMs.toFixed(0)} ms (podman run to /ready 200; target <= 1000 ms), of which the process's own start to listening ${processStartupMs} ms`,
    );
    const health = await fetch(`${apiUrl}/health`);
    expect(LivenessSchema.parse(await health.json())).toEqual({ status: "ok" });
    const ready = await fetch(`${apiUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(ReadinessSchema.parse(await ready.json()).status).toBe("ready");
    const bundle = await fetch(`${apiUrl}/v1/docs/scalar.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
    expect(await containers[0]?.healthcheck()).toBe(true);
  });

  test("one worker container per lane, started with fly.toml's command, reports its lane healthy", async () => {
    for (const lane of LANES) {
      const res = await fetch(workerHealth[lane] as string);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ok", lanes: [lane] });
    }
    const worker = containers.find((c) => c.name.endsWith("worker-default"));
    expect(await worker?.healthcheck()).toBe(true);
  });

  test("a photo uploaded to the API container is identified by the default-lane container from S3 and its owner notified", async () => {
    const ip = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
    const reg = await fetch(`${apiUrl}/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", "fly-client-ip": ip },
      body: JSON.stringify({
        email: `img-${run_id}@example.com`,
        password: `pw-${run_id}-long`,
        displayName: "Img",
      }),
    });
    expect(reg.status).toBe(202);
    const login = await fetch(`${apiUrl}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "fly-client-ip": ip },
      body: JSON.stringify({ email: `img-${run_id}@example.com`, password: `pw-${run_id}-long` }),
    });
    expect(login.status).toBe(200);
    const session = SessionSchema.parse(await login.json());
    const auth = { authorization: `Bearer ${session.accessToken}`, "fly-client-ip": ip };

    const submitted = await fetch(`${apiUrl}/v1/identifications`, {
      method: "POST",
      headers: { ...auth, prefer: "respond-async" },
      body: uploadForm([await jpeg()]),
    });
    expect(submitted.status).toBe(202);
    const { id } = IdentificationSchema.parse(await submitted.json());

    const done = await waitFor(
      async () => {
        const res = await fetch(`${apiUrl}/v1/identifications/${id}`, { headers: auth });
        const body = IdentificationSchema.parse(await res.json());
        return body.status === "completed" || body.status === "failed" ? body : undefined;
      },
      { timeoutMs: 90_000, what: "the identification to finish in the default-lane container" },
    );
    if (!done) throw new Error("unreachable: waitFor resolves with a value");
    expect(done.status).toBe("completed");
    expect(done.suggestions.length).toBeGreaterThan(0);
    expect(sim.control.allCalls()["plant-id"]).toBeGreaterThan(0);

    // The stored photo is in the bucket (served back through the API from S3).
    const imageUrl = done.images[0]?.url as string;
    const photo = await fetch(imageUrl);
    expect(photo.status).toBe(200);
    expect(photo.headers.get("content-type")).toBe("image/jpeg");

    const notified = await waitFor(
      async () => {
        const res = await fetch(`${apiUrl}/v1/notifications`, { headers: auth });
        const page = NotificationPageSchema.parse(await res.json());
        return page.data.find((n) => n.kind === "identification.completed" && n.data.identificationId === id);
      },
      { timeoutMs: 60_000, what: "the notification from the fast-lane container" },
    );
    expect(notified?.title.length).toBeGreaterThan(0);
  }, 60_000);
});
