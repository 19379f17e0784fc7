import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { START_WORKER_LANES, START_WORKER_PORT_BASE } from "../../scripts/start-ports.ts";
import { parseConfig } from "../../src/config/index.ts";
import {
  ALERTS_FILE,
  alertQueries,
  DASHBOARD_FILE,
  dashboardQueries,
  isExported,
  metricFamilies,
  metricNames,
  SCRAPE_CONFIG_FILE,
} from "./ops-queries.ts";
import { promtoolCheckMetrics } from "./promtool.ts";

const ALERTMANAGER_FILE = join(import.meta.dir, "..", "..", "ops/alertmanager/alertmanager.yml");

/** Every alert of ops/prometheus/alerts.yml: each needs its promtool test and its dashboard panel. */
const ALERTS = [
  "HighErrorRate",
  "SlowResponses",
  "SlowIdentifications",
  "ScrapeTargetDown",
  "CircuitBreakerOpen",
  "ReplicaLagOverBound",
  "SlowDatabaseQueries",
  "LowCacheHitRate",
  "QueueLaneStuck",
  "CspNewViolationType",
];

const promtool = (...args: string[]) => run("promtool", ...args);
const amtool = (...args: string[]) => run("amtool", ...args);

async function run(...args: string[]) {
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `${out}${err}` };
}

describe("ops/prometheus", () => {
  test("the alert rules pass promtool check rules", async () => {
    const { code, output } = await promtool("check", "rules", ALERTS_FILE);
    expect(output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(code).toBe(0);
    const rules = Bun.YAML.parse(await Bun.file(ALERTS_FILE).text()) as {
      groups: { rules: { alert: string; labels: { severity: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert).sort()).toEqual([...ALERTS].sort());
    // Alertmanager routes by severity: a rule without a known one would reach nobody in particular.
    expect(all.filter((r) => !["page", "warn"].includes(r.labels.severity))).toEqual([]);
  });

  test("every alert has its own promtool unit test", async () => {
    const tests = Bun.YAML.parse(await Bun.file(join(import.meta.dir, "alerts.promtool.yml")).text()) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect(ALERTS.filter((a) => !firing.has(a))).toEqual([]);
  });

  test("each alert fires on its condition after its duration, and not before or below it (promtool test rules)", async () => {
    const { code, output } = await promtool("test", "rules", join(import.meta.dir, "alerts.promtool.yml"));
    expect(output).toContain("SUCCESS");
    expect(code).toBe(0);
  });

  test("the local scrape config passes promtool check config and scrapes the API's and the workers' ports", async () => {
    const { code, output } = await promtool("check", "config", SCRAPE_CONFIG_FILE);
    expect(code).toBe(0);
    expect(output).toContain("is valid prometheus config file syntax");
    const config = Bun.YAML.parse(await Bun.file(SCRAPE_CONFIG_FILE).text()) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]),
    );
    // The API's metrics port as `npm start` runs it (METRICS_PORT's default), and one worker per lane on the
    // ports scripts/start.ts gives them.
    expect(targets["plant-community-api"]).toEqual([`127.0.0.1:${parseConfig({}).metrics.port}`]);
    expect(targets["plant-community-workers"]).toEqual(
      START_WORKER_LANES.map((_, i) => `127.0.0.1:${START_WORKER_PORT_BASE + i}`),
    );
    expect(await Bun.file(join(import.meta.dir, "..", "..", "scripts/start.ts")).text()).toContain(
      "START_WORKER_PORT_BASE",
    );
  });
});

describe("ops/alertmanager", () => {
  test("the configuration passes amtool check-config", async () => {
    const { code, output } = await amtool("check-config", ALERTMANAGER_FILE);
    expect(output).toContain("SUCCESS");
    expect(code).toBe(0);
  });

  test("routes page alerts to the pager (and the chat) and warn alerts to the chat only", async () => {
    const route = async (...labels: string[]) =>
      (await amtool("config", "routes", "test", `--config.file=${ALERTMANAGER_FILE}`, ...labels)).output
        .split("\n")
        .filter((l) => l.trim() && !l.startsWith("Warning"))
        .join("\n")
        .trim();
    expect(await route("severity=page", "alertname=HighErrorRate")).toBe("on-call-pager,team-chat");
    expect(await route("severity=warn", "alertname=SlowResponses")).toBe("team-chat");
  });
});

describe("ops/grafana dashboard", () => {
  test("has a panel for each view operators asked for", async () => {
    const dashboard = (await Bun.file(DASHBOARD_FILE).json()) as { uid: string; panels: { title: string }[] };
    expect(dashboard.uid).toBe("plant-community");
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const wanted of [
      "request rate",
      "p50 / p95 / p99",
      "error rate",
      "cache hit rate",
      "provider calls",
      "active users",
      "query time",
      "queue depth",
      "breaker states",
      "csp violations",
      "accuracy by variant",
    ]) {
      expect(titles.some((t) => t.includes(wanted))).toBe(true);
    }
  });

  test("has a panel for each alert's signal, titled by the alert", async () => {
    const dashboard = (await Bun.file(DASHBOARD_FILE).json()) as { panels: { title: string }[] };
    const titles = dashboard.panels.map((p) => p.title);
    expect(
      ALERTS.filter(
        (a) =>
          a !== "ReplicaLagOverBound" &&
          a !== "CspNewViolationType" &&
          !titles.some((t) => t.startsWith(`${a}:`)),
      ),
    ).toEqual([]);
  });

  test("every panel query names the metrics it reads, as the live-output check relies on", async () => {
    const queries = await dashboardQueries();
    expect(queries.filter((q) => metricNames(q.expr).length === 0)).toEqual([]);
    expect((await alertQueries()).filter((q) => metricNames(q.expr).length === 0)).toEqual([]);
  });
});

describe("the checks' own tools", () => {
  test("metricNames finds metric names and skips functions, labels, keywords and durations", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, target) (rate(db_query_duration_seconds_bucket{target=~"prim.*"}[$__rate_interval]))) > 2e-1',
      ),
    ).toEqual(["db_query_duration_seconds_bucket"]);
    expect(
      metricNames(
        'max by (lane) (queue_depth{state="waiting"}) > 0 and on (lane) max by (lane) (queue_depth{state="active"}) == 0',
      ),
    ).toEqual(["queue_depth"]);
    expect(
      metricNames("db_replica_lag_seconds > on (instance, job) db_replica_lag_bound_seconds offset 5m"),
    ).toEqual(["db_replica_lag_seconds", "db_replica_lag_bound_seconds"]);
  });

  test("isExported accepts histogram series only for histogram families", () => {
    const families = metricFamilies("# TYPE a_seconds histogram\n# TYPE b_total counter\n# TYPE c gauge\n");
    expect(isExported("a_seconds_bucket", families)).toBe(true);
    expect(isExported("a_seconds_count", families)).toBe(true);
    expect(isExported("b_total", families)).toBe(true);
    expect(isExported("c_bucket", families)).toBe(false);
    expect(isExported("d", families)).toBe(false);
  });

  test("promtool check metrics rejects a gauge named like a counter, so a pass means something", async () => {
    const bad = await promtoolCheckMetrics(
      "# HELP jobs_total Jobs.\n# TYPE jobs_total gauge\njobs_total 1\n",
    );
    expect(bad.exitCode).not.toBe(0);
    expect(bad.problems.join("\n")).toContain('non-counter metrics should not have "_total" suffix');
  });
});
