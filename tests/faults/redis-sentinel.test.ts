/**
 * Roadmap [11] / issue #10: Redis behind Sentinel. A real master + replica + three Sentinels (passwords on both),
 * the API (in this process) and a worker process configured with REDIS_SENTINELS. Under a steady stream of
 * async identifications the master is killed with SIGKILL: the Sentinels promote the replica, the API and the
 * worker follow it without a restart, and every identification accepted with 202 - before, during or after -
 * completes exactly once (the database row is the source of truth; what the lane lost is re-enqueued from it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import { identifyEnv, mediaDir, removeDir, startSimulator, uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { type SentinelGroup, startSentinelGroup } from "../helpers/servers/redis.ts";
import { startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let group: SentinelGroup;
let sim: ProviderSimulator;
let dir: string;
let app: TestApp;
let worker: WorkerProcess;
let user: TestUser;

function sentinelEnv(): Record<string, string> {
  return {
    REDIS_SENTINELS: group.sentinels,
    REDIS_SENTINEL_NAME: group.name,
    REDIS_PASSWORD: group.password ?? "",
    REDIS_SENTINEL_PASSWORD: group.sentinelPassword ?? "",
  };
}

beforeAll(async () => {
  group = await startSentinelGroup({
    password: `r-${crypto.randomUUID()}`,
    sentinelPassword: `s-${crypto.randomUUID()}`,
  });
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp({
    ...identifyEnv(sim, dir),
    ...sentinelEnv(),
    RATE_LIMIT_IDENTIFY: "10000/1h",
    PROVIDER_BUDGET_USER_DAILY: "0",
  });
  worker = await startWorkerProcess(
    workerEnv(app, ["default", "fast", "slow"], {
      ...identifyEnv(sim, dir),
      ...sentinelEnv(),
      // Lost lane entries come back from the database within seconds here (production default: 15 s).
      QUEUE_STRANDED_AFTER_MS: "2000",
    }),
  );
  user = await registerUser(app);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await app?.deps.close();
  await sim?.stop();
  await group?.stop();
  if (dir) await removeDir(dir);
});

describe("Sentinel failover under load (kill -9 of the master)", () => {
  test("API and worker follow the new master; every accepted identification completes exactly once", async () => {
    const image = await jpeg();
    const accepted: string[] = [];
    const statuses: number[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const res = await app.request("/v1/identifications", {
          method: "POST",
          headers: { ...user.headers, prefer: "respond-async" },
          body: uploadForm([image]),
        });
        statuses.push(res.status);
        if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
        else expect(res.status).toBe(503); // refused promptly, never a 500 or a hang
      }
    })();

    await waitFor(() => accepted.length >= 5, { timeoutMs: 10_000, what: "identifications before the kill" });
    const before = accepted.length;
    await group.killMasterAndAwaitFailover();
    const atFailover = accepted.length;
    await waitFor(() => accepted.length >= atFailover + 5, {
      timeoutMs: 15_000,
      what: "identifications accepted after the failover",
    });
    stop = true;
    await load;
    expect(before).toBeGreaterThan(0);

    // Every accepted identification completes; none is left queued, failed or run twice.
    await waitFor(
      async () => {
        const rows = await app.deps.db.primary
          .selectFrom("identifications")
          .select(["id", "status"])
          .where("id", "in", accepted)
          .execute();
        return rows.length === accepted.length && rows.every((r) => r.status === "completed");
      },
      { timeoutMs: 25_000, what: `all ${accepted.length} accepted identifications to complete` },
    );
    const notifications = () =>
      app.deps.db.primary
        .selectFrom("notifications")
        .select([sql<string>`dedupe_key`.as("key"), sql<number>`count(*)::int`.as("n")])
        .where("user_id", "=", user.user.id)
        .where("dedupe_key", "like", "identification.completed:%")
        .groupBy("dedupe_key")
        .execute();
    await waitFor(async () => (await notifications()).length === accepted.length, {
      timeoutMs: 15_000,
      what: "one notification per identification",
    });
    const notified = await notifications();
    expect(notified.every((n) => n.n === 1)).toBe(true);
    // The worker followed the new master by itself: its health check runs the queue's scripts there.
    await waitFor(async () => (await fetch(worker.healthUrl)).status === 200, {
      what: "the worker to be healthy",
    });
    expect(statuses.filter((s) => s === 202).length).toBe(accepted.length);
  }, 60_000);
});
