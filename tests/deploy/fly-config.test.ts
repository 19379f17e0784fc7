import { describe, expect, test } from "bun:test";
import { parseConfig, parseReleaseConfig } from "../../src/config/index.ts";
import {
  documentedSecrets,
  dummySecret,
  durationMs,
  readFlyToml,
  splitProcessCommand,
} from "../helpers/fly-files.ts";

const fly = readFlyToml();
const secrets = documentedSecrets();
const secretEnv = (names = secrets) => Object.fromEntries(names.map((n) => [n, dummySecret(n)]));
const groups = Object.keys(fly.processes);
const workerGroups = groups.filter((g) => g.startsWith("worker_"));
/** What a Machine of the group sees: [env], the secrets, then the assignments of its process command. */
const groupEnv = (group: string, names = secrets) => ({
  ...fly.env,
  ...secretEnv(names),
  ...splitProcessCommand(fly.processes[group] as string).env,
});
// workers/main.ts exits this long after its drain deadline whatever hangs.
const WORKER_EXIT_GRACE_MS = 5_000;
const HEADROOM_MS = 30_000;

describe("fly.toml with the README's secrets", () => {
  test("the README documents a non-empty `fly secrets set` list and fly.toml keeps no secret in [env]", () => {
    expect(secrets.length).toBeGreaterThan(0);
    for (const name of secrets) expect(Object.keys(fly.env)).not.toContain(name);
  });

  test.each(groups)("process group %s boots with [env] + the documented secrets", (group) => {
    const config = parseConfig(groupEnv(group));
    expect(config.env).toBe("production");
    expect(config.storage.driver).toBe("s3");
    expect(config.publicBaseUrl).toStartWith("https://");
    if (group === "app") {
      expect(config.port).toBe(fly.http_service.internal_port);
    } else {
      expect(config.worker.lanes).toEqual([group.replace(/^worker_/, "")] as never);
    }
  });

  test("every documented secret is needed by some process group (the list is minimal)", () => {
    for (const missing of secrets) {
      const without = secrets.filter((n) => n !== missing);
      const failing = groups.filter((g) => {
        try {
          parseConfig(groupEnv(g, without));
          return false;
        } catch {
          return true;
        }
      });
      expect({ missing, failing: failing.length > 0 }).toEqual({ missing, failing: true });
    }
  });

  test("every process runs the production bundle: the API, `worker` per lane, `migrate release` on deploy", () => {
    expect(fly.processes.app).toBe("bun dist/app/main.js");
    for (const group of groups.filter((g) => g.startsWith("worker_")))
      expect(splitProcessCommand(fly.processes[group] as string).argv).toEqual([
        "bun",
        "dist/app/main.js",
        "worker",
      ]);
  });

  test("the release command is the bundle's `migrate release` and needs DATABASE_URL only", () => {
    const { argv } = splitProcessCommand(fly.deploy.release_command);
    expect(argv).toEqual(["bun", "dist/app/main.js", "migrate", "release"]);
    expect(parseReleaseConfig({ ...fly.env, DATABASE_URL: dummySecret("DATABASE_URL") }).databaseUrl).toBe(
      dummySecret("DATABASE_URL"),
    );
    expect(() => parseReleaseConfig(fly.env)).toThrow("DATABASE_URL");
  });

  test("without a secret the API refuses to start and names it", () => {
    expect(() =>
      parseConfig(
        groupEnv(
          "app",
          secrets.filter((n) => n !== "JWT_SECRET"),
        ),
      ),
    ).toThrow("JWT_SECRET");
  });
});

describe("fly.toml against Fly's documented semantics", () => {
  test("only /health decides routing; /ready is a top-level check of the app group", () => {
    expect(fly.http_service.checks.map((c) => c.path)).toEqual(["/health"]);
    expect(fly.checks.ready).toMatchObject({ type: "http", path: "/ready", processes: ["app"] });
    expect(fly.checks.ready?.port).toBe(fly.http_service.internal_port);
  });

  test("min_machines_running comes with auto-stop, which is the only mode it applies to", () => {
    if ((fly.http_service.min_machines_running ?? 0) > 0) {
      expect(["stop", "suspend"]).toContain(String(fly.http_service.auto_stop_machines));
      expect(fly.http_service.auto_start_machines).toBe(true);
    }
  });

  test("kill_timeout is under Fly's 300 s cap and covers every group's drain with headroom", () => {
    const kill = durationMs(fly.kill_timeout);
    expect(kill).toBeLessThanOrEqual(300_000);
    for (const group of groups) {
      const config = parseConfig(groupEnv(group));
      const needs =
        group === "app" ? config.http.shutdownTimeoutMs : config.worker.drainTimeoutMs + WORKER_EXIT_GRACE_MS;
      expect({ group, fits: needs + HEADROOM_MS <= kill }).toEqual({ group, fits: true });
    }
  });

  test("every group is scraped on the port it serves /metrics on, has a VM size, and workers a /healthz check", () => {
    for (const group of groups) {
      const config = parseConfig(groupEnv(group));
      const scrape = fly.metrics.find((m) => m.processes.includes(group));
      expect(scrape?.path).toBe("/metrics");
      expect(scrape?.port).toBe(group === "app" ? config.metrics.port : config.worker.port);
      expect(fly.vm.some((v) => v.processes.includes(group))).toBe(true);
    }
    const workerCheck = Object.values(fly.checks).find((c) => c.path === "/healthz");
    expect(workerCheck?.processes?.toSorted()).toEqual(workerGroups.toSorted());
    for (const group of workerGroups)
      expect(workerCheck?.port).toBe(parseConfig(groupEnv(group)).worker.port);
  });
});
