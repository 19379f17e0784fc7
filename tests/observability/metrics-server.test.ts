import { afterAll, describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { startMetricsServer } from "../../src/http/metrics-server.ts";
import { createMetrics } from "../../src/infra/metrics.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectProblem } from "../helpers/problem.ts";

const TOKEN = "metrics-token-0123456789abcdef";
const apps: TestApp[] = [];
afterAll(() => Promise.all(apps.map((a) => a.close())));

describe("the metrics port", () => {
  test("serves the registry at /metrics in the Prometheus text format, plus the extra routes", async () => {
    const metrics = createMetrics();
    metrics.identifications.inc();
    const server = startMetricsServer({
      registry: metrics.registry,
      port: 0,
      hostname: "127.0.0.1",
      routes: { "/healthz": () => Response.json({ status: "ok" }) },
    });
    try {
      expect(server.port).toBeGreaterThan(0);
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(new Registry().contentType);
      expect(await res.text()).toContain("\nidentifications_total 1\n");

      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });

      expect((await fetch(`${server.url}/other`)).status).toBe(404);
      const post = await fetch(`${server.url}/metrics`, { method: "POST" });
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD");
    } finally {
      await server.stop();
    }
  });
});

describe("/metrics on the public port", () => {
  test("is not there without METRICS_TOKEN", async () => {
    const t = await createTestApp();
    apps.push(t);
    const res = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    await expectProblem(res, 404, "route_not_found");
  });

  test("answers the bearer of METRICS_TOKEN and refuses anyone else with a 401 problem", async () => {
    const t = await createTestApp({ METRICS_TOKEN: TOKEN });
    apps.push(t);
    const refused: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789abcdef" },
      { authorization: TOKEN },
    ];
    for (const headers of refused) {
      const res = await t.request("/metrics", { headers });
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
      await expectProblem(res, 401, "unauthenticated");
    }
    const res = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toContain("# TYPE http_requests_total counter");
  });
});
