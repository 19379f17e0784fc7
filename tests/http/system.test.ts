import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LivenessSchema, ReadinessSchema } from "../../src/modules/system/system.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("health and readiness", () => {
  test("/health answers while the process runs", async () => {
    const res = await t.request("/health");
    expect(res.status).toBe(200);
    expect(LivenessSchema.parse(await res.json()).status).toBe("ok");
  });

  test("/ready reports each dependency up when all are reachable", async () => {
    const res = await t.request("/ready");
    expect(res.status).toBe(200);
    const body = ReadinessSchema.parse(await res.json());
    expect(body.status).toBe("ready");
    expect(body.checks.primary.status).toBe("up");
    expect(body.checks.replica.status).toBe("up");
    expect(body.checks.redis.status).toBe("up");
    expect(body.checks.queue.status).toBe("up");
  });

  test("/ready is 503 when the primary database cannot be reached", async () => {
    const down = await createTestApp({
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
      DATABASE_REPLICA_URL: "",
    });
    const res = await down.request("/ready");
    expect(res.status).toBe(503);
    const body = ReadinessSchema.parse(await res.json());
    expect(body.status).toBe("not_ready");
    expect(body.checks.primary.status).toBe("down");
    expect(body.checks.replica.status).toBe("not_configured");
    await down.close();
  });

  test("/ready is 503 when Redis cannot be reached", async () => {
    const down = await createTestApp({ REDIS_URL: "redis://127.0.0.1:1" });
    const res = await down.request("/ready");
    expect(res.status).toBe(503);
    const body = ReadinessSchema.parse(await res.json());
    expect(body.checks.redis.status).toBe("down");
    expect(body.checks.queue.status).toBe("down");
    expect(body.checks.primary.status).toBe("up");
    // State and latency only: no driver message (host, port, "ECONNREFUSED") on a public endpoint.
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|detail/);
    down.deps.redis.cache.disconnect();
    await down.deps.close();
  });
});
