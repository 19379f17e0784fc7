/**
 * The production bundle (scripts/build.ts), as the image and fly.toml run it: built from the sources into a
 * directory of its own, then started as real processes against the test run's PostgreSQL pair and Redis. What
 * a bundle can break that the sources do not: paths found from the module's own location (migrations, the docs
 * page's script), modules loaded on first use (GraphQL, the password dictionaries, the mailer: side bundles of
 * their own beside main.js), the entry points' start without top-level await.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { buildBundle } from "../../scripts/build.ts";
import { APP_ROOT } from "../../src/app-root.ts";
import { migrationNames } from "../../src/db/migration-files.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { LivenessSchema, ReadinessSchema } from "../../src/modules/system/system.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { jsonRequest, uniqueEmail } from "../helpers/auth.ts";
import { processEnv, testEnv } from "../helpers/env.ts";
import { expectProblem } from "../helpers/problem.ts";
import { type ChildProcess, spawnBun } from "../helpers/process.ts";

// Inside the repository (dist/), as in the image (/app/dist/app): the bundle finds the app's root above it.
const outdir = join(APP_ROOT, "dist", `test-bundle-${crypto.randomUUID().slice(0, 8)}`);
const prefix = `test:${crypto.randomUUID()}:`;
const common = {
  ...processEnv(prefix),
  MEDIA_DIR: join(tmpdir(), `plantc-media-${crypto.randomUUID()}`),
  MAIL_OUTBOX_DIR: join(tmpdir(), `plantc-outbox-${crypto.randomUUID()}`),
};
let bundle: string;
let api: ChildProcess;
let worker: ChildProcess;
let apiUrl: string;
let healthz: string;

beforeAll(async () => {
  bundle = await buildBundle(outdir);
  // As fly.toml runs them: `main.js` is the API, `main.js worker` a lane worker.
  api = spawnBun(bundle, { ...common, PORT: "0", SEED_ON_START: "false" });
  worker = spawnBun(bundle, { ...common, WORKER_PORT: "0", WORKER_QUEUES: "fast" }, ["worker"]);
  const [listening, ready] = await Promise.all([
    api.waitForLine((l) => l.message === "api listening", "the API bundle to listen", 45_000),
    worker.waitForLine((l) => l.message === "worker ready", "the worker bundle to start", 45_000),
  ]);
  apiUrl = String(listening.url).replace("localhost", "127.0.0.1");
  healthz = String(ready.healthz);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([api?.stop(), worker?.stop()]);
  await rm(outdir, { recursive: true, force: true });
  await rm(common.MEDIA_DIR, { recursive: true, force: true });
  await rm(common.MAIL_OUTBOX_DIR, { recursive: true, force: true });
  const { Redis } = await import("ioredis");
  const redis = new Redis(testEnv.redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("the production bundle", () => {
  test("are one file for every process kind, with its precompiled bytecode", () => {
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.jsc`)).toBe(true);
  });

  test("the bundle's migrate role runs the bundled migrations: status lists every file in migrations/, applied", async () => {
    const status = spawnBun(bundle, { DATABASE_URL: testEnv.databaseUrl }, ["migrate", "status"]);
    expect(await status.exited).toBe(0);
    const names = await migrationNames(); // the files in migrations/, read by the sources
    const lines = status.output().trim().split("\n");
    expect(lines).toHaveLength(names.length);
    for (const [i, name] of names.entries()) {
      expect(lines[i]).toStartWith("applied ");
      expect(lines[i]).toEndWith(name);
    }
  });

  test("an unknown role is refused with its usage and exit code 2", async () => {
    const proc = spawnBun(bundle, {}, ["serve"]);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('unknown role "serve"');
  });

  test("the API bundle serves health, readiness (its queue scripts run), the catalogue, the OpenAPI document and the docs page's script", async () => {
    const health = await fetch(`${apiUrl}/health`);
    expect(health.status).toBe(200);
    expect(LivenessSchema.parse(await health.json()).status).toBe("ok");

    const ready = await fetch(`${apiUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(ReadinessSchema.parse(await ready.json()).checks.queue.status).toBe("up");

    const species = await fetch(`${apiUrl}/v1/species?q=monstera`);
    expect(species.status).toBe(200);
    const page = SpeciesPageSchema.parse(await species.json());
    expect(page.data.some((s) => s.scientificName === "Monstera deliciosa")).toBe(true);

    const openapi = await fetch(`${apiUrl}/v1/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(z.object({ openapi: z.string() }).parse(await openapi.json()).openapi).toBe("3.1.0");

    const script = await fetch(`${apiUrl}/v1/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  test("the API bundle answers GraphQL, whose modules load on first use from inside the bundle", async () => {
    const res = await fetch(`${apiUrl}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: '{ speciesList(first: 2, q: "monstera") { edges { node { scientificName } } } }',
      }),
    });
    expect(res.status).toBe(200);
    const body = z
      .object({
        data: z.object({
          speciesList: z.object({
            edges: z.array(z.object({ node: z.object({ scientificName: z.string() }) })),
          }),
        }),
      })
      .parse(await res.json());
    expect(body.data.speciesList.edges.map((e) => e.node.scientificName)).toContain("Monstera deliciosa");
  });

  test("a registration through the bundles: the API rates the password with the dictionaries, the fast-lane worker writes the confirmation e-mail (both side bundles, loaded on first use)", async () => {
    const email = uniqueEmail("bundle");
    const weak = await fetch(
      `${apiUrl}/v1/auth/register`,
      jsonRequest("POST", { email, password: "password1234", displayName: "Bundle" }),
    );
    const refused = await expectProblem(weak, 400, "validation_failed");
    expect(JSON.stringify(refused.errors)).toContain("too easy to guess");

    const strong = await fetch(
      `${apiUrl}/v1/auth/register`,
      jsonRequest("POST", { email, password: "a long enough password", displayName: "Bundle" }),
    );
    expect(strong.status).toBe(202);
    const eml = await waitFor(
      async () => {
        const files = await readdir(common.MAIL_OUTBOX_DIR).catch(() => [] as string[]);
        for (const f of files.filter((name) => name.endsWith(".eml"))) {
          const text = await readFile(join(common.MAIL_OUTBOX_DIR, f), "utf8");
          if (text.includes(email)) return text;
        }
        return undefined;
      },
      { what: "the confirmation e-mail in the outbox" },
    );
    expect(eml).toContain(`To: ${email}`);
  });

  test("the worker bundle consumes its lane and reports healthy", async () => {
    const res = await fetch(healthz);
    expect(res.status).toBe(200);
    const body = z
      .object({ status: z.string(), lanes: z.array(z.string()), queue: z.string() })
      .parse(await res.json());
    expect(body).toMatchObject({ status: "ok", lanes: ["fast"], queue: "up" });
  });
});
