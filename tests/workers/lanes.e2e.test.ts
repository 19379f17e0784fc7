import { describe, expect, test } from "bun:test";
import type { Lane } from "../../src/infra/queues.ts";
import { BatchSchema } from "../../src/modules/identification-batches/batches.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { failedJobsWhere, identificationRow, notificationsOf, submitAsync } from "../helpers/background.ts";
import { jpeg } from "../helpers/images.ts";
import { useWorkerE2e } from "../helpers/worker-e2e.ts";
import { removeQueueKeys } from "../helpers/workers.ts";

const fx = useWorkerE2e();
const worker = (lanes: Lane[], extra: Record<string, string> = {}) => fx.startWorker(lanes, extra);

/** A dead worker's job comes back one lease after its last heartbeat: crash tests use a short lease. */
function crashTestWorker(lanes: Lane[], extra: Record<string, string> = {}) {
  return worker(lanes, { QUEUE_LEASE_MS: "3000", ...extra });
}

const completedKey = (id: string) => `identification.completed:${id}`;

describe("async identification", () => {
  test("goes queued -> processing -> completed in a worker process and notifies its owner once", async () => {
    fx.sim.control.hang("plant-id");
    const user = await registerUser(fx.app);
    await worker(["default", "fast"]);
    const id = await submitAsync(fx.app, user, [await jpeg()]);

    await fx.sim.control.whenCalled("plant-id");
    expect((await identificationRow(fx.app, id)).status).toBe("processing");
    fx.sim.control.reset();

    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "the identification to complete",
    });
    const row = await identificationRow(fx.app, id);
    expect(row.confidence).toBeGreaterThan(0);
    expect((row.result as { suggestions: unknown[] }).suggestions.length).toBeGreaterThan(0);
    await waitFor(async () => (await notificationsOf(fx.app, user.user.id, completedKey(id))).length > 0, {
      what: "the notification",
    });
    const notifications = await notificationsOf(fx.app, user.user.id, completedKey(id));
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      kind: "identification.completed",
      data: { identificationId: id },
    });
  });

  test("a premium user's identification is run by a priority-lane worker while the default lane has none", async () => {
    const premium = await registerUser(fx.app, { role: "premium" });
    await worker(["priority", "fast"]);
    const id = await submitAsync(fx.app, premium, [await jpeg()]);
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "completion",
    });
    expect(await fx.app.deps.queues.queue("default").getWaitingCount()).toBe(0);
    // Its notification too, or the job would be left in the fast lane for the next test's worker.
    await waitFor(async () => (await notificationsOf(fx.app, premium.user.id, completedKey(id))).length > 0, {
      what: "the notification",
    });
  });
});

describe("a worker process", () => {
  test("serves /healthz and /metrics on its own port, with the lanes it consumes and their job metrics", async () => {
    const user = await registerUser(fx.app);
    // This test counts one job: drop what earlier tests left in the lanes (a notification a stopped worker did
    // not reach) and the confirmation e-mail the registration queued.
    await removeQueueKeys(fx.app);
    const w = await worker(["fast", "slow"]);
    const { enqueue } = await import("../../src/infra/queues.ts");
    await enqueue(
      fx.app.deps,
      "notification.send",
      { userId: user.user.id, key: "metrics", kind: "test.metrics", title: "Hi" },
      { groupId: `user:${user.user.id}` },
    );
    await waitFor(async () => (await notificationsOf(fx.app, user.user.id, "metrics")).length === 1, {
      what: "the job",
    });

    // The row is written before the job ends: wait until the worker reports nothing running on the fast lane.
    const readHealth = async () => {
      const res = await fetch(w.healthUrl);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        status: string;
        lanes: string[];
        running: Record<string, number>;
        redis: string;
        queue: string;
      };
    };
    await waitFor(async () => (await readHealth()).running.fast === 0, { what: "the fast lane to be idle" });
    // (The slow lane may be running the media.purge / cache.warm its scheduler enqueued at boot.)
    expect(await readHealth()).toMatchObject({
      status: "ok",
      lanes: ["fast", "slow"],
      running: { fast: 0 },
      redis: "ready",
      queue: "up",
    });
    const metrics = await (await fetch(w.healthUrl.replace("/healthz", "/metrics"))).text();
    expect(metrics).toContain(
      'queue_jobs_finished_total{lane="fast",job="notification.send",outcome="completed"} 1',
    );
    expect(metrics).toMatch(/queue_job_wait_seconds_count\{lane="fast"\} 1/);
    expect(metrics).toContain('queue_depth{lane="fast",state="waiting"} 0');
    expect(metrics).toContain('queue_depth{lane="slow",state="active"}');
  });
});

describe("crashes and shutdowns", () => {
  test("a worker killed with SIGKILL mid-job: the job is delivered again and completes once", async () => {
    fx.sim.control.hang("plant-id");
    fx.sim.control.hang("plantnet");
    const user = await registerUser(fx.app);
    const first = await crashTestWorker(["default"]);
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    await fx.sim.control.whenCalled("plant-id");
    first.kill("SIGKILL");
    await first.exited;
    fx.sim.control.reset();

    await crashTestWorker(["default", "fast"]);
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 20_000,
      what: "redelivery",
    });
    await waitFor(() => notificationsOf(fx.app, user.user.id, completedKey(id)).then((n) => n.length === 1), {
      what: "one notification",
    });
    // Redelivered once, not run in a loop, and never counted as a failure.
    expect(fx.sim.control.calls("plant-id")).toBe(1);
    expect(await failedJobsWhere(fx.app, "identificationId", id)).toEqual([]);
    expect(await notificationsOf(fx.app, user.user.id)).toHaveLength(1);
  });

  test("a job whose worker keeps dying is dead-lettered after QUEUE_MAX_STALLED_COUNT crashes instead of looping", async () => {
    fx.sim.control.hang("plant-id");
    fx.sim.control.hang("plantnet");
    const user = await registerUser(fx.app);
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    for (let crash = 1; crash <= 2; crash++) {
      const doomed = await crashTestWorker(["default"], { QUEUE_MAX_STALLED_COUNT: "2" });
      await fx.sim.control.whenCalled("plant-id", crash);
      doomed.kill("SIGKILL");
      await doomed.exited;
    }
    await crashTestWorker(["default", "fast"], { QUEUE_MAX_STALLED_COUNT: "2" });
    await waitFor(async () => (await failedJobsWhere(fx.app, "identificationId", id)).length === 1, {
      timeoutMs: 15_000,
      what: "the dead letter",
    });
    const [dead] = await failedJobsWhere(fx.app, "identificationId", id);
    // Caught either by groupmq's stall check (2 lease expiries) or by our start count, whichever sees it first.
    expect(["JobStalledError", "JobCrashLoopError"]).toContain(dead!.error_name);
    expect(dead!.error).toMatch(/stalled 2 times|died 2 times/);
    expect(fx.sim.control.calls("plant-id")).toBe(2);
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "failed", {
      what: "the failed status",
    });
    await waitFor(
      async () => (await notificationsOf(fx.app, user.user.id, `identification.failed:${id}`)).length === 1,
      { what: "the notification" },
    );
  });

  test("SIGTERM lets a running job finish, then the worker exits 0", async () => {
    fx.sim.control.setLatency("plant-id", 1_500);
    const user = await registerUser(fx.app);
    const w = await worker(["default"]);
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    await fx.sim.control.whenCalled("plant-id");
    w.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    expect((await identificationRow(fx.app, id)).status).toBe("completed");
    const stopped = await w.waitForLine((l) => l.message === "worker stopped", "the stop line");
    expect(stopped.released).toBe(0);
  });

  test("SIGTERM hands a job that cannot finish in time back to its lane without spending an attempt", async () => {
    fx.sim.control.hang("plant-id");
    fx.sim.control.hang("plantnet");
    const user = await registerUser(fx.app);
    const w = await worker(["default"], { WORKER_DRAIN_TIMEOUT_MS: "800" });
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    await fx.sim.control.whenCalled("plant-id");
    w.kill("SIGTERM");
    // It exits although the job hangs: its drain budget ran out and the job went back (released: 1).
    expect(await w.exited).toBe(0);
    expect((await w.waitForLine((l) => l.message === "worker stopped", "the stop line")).released).toBe(1);
    const job = await fx.app.deps.queues.queue("default").getJob(`identification.run:${id}`);
    expect(job.status).toBe("waiting");
    expect(job.attemptsMade).toBe(0);

    fx.sim.control.reset();
    await worker(["default", "fast"]);
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "the handed-back job",
    });
  });
});

describe("batches", () => {
  test("a batch is identified by a slow-lane worker: every photo completes, progress reaches 100% and the user is told", async () => {
    const user = await registerUser(fx.app);
    await worker(["slow", "fast"]);
    const form = new FormData();
    for (let i = 0; i < 3; i++)
      form.append(
        "images",
        new Blob([(await jpeg()) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
        `p${i}.jpg`,
      );
    const res = await fx.app.request("/v1/identification-batches", {
      method: "POST",
      headers: user.headers,
      body: form,
    });
    expect(res.status).toBe(202);
    const { id } = BatchSchema.parse(await res.json());
    const read = async () =>
      BatchSchema.parse(
        await (await fx.app.request(`/v1/identification-batches/${id}`, { headers: user.headers })).json(),
      );
    await waitFor(async () => (await read()).status === "completed", {
      timeoutMs: 15_000,
      what: "the batch",
    });
    const batch = await read();
    expect(batch.progress).toEqual({ completed: 3, failed: 0, pending: 0, percent: 100 });
    expect(batch.items.map((i) => i.status)).toEqual(["completed", "completed", "completed"]);
    expect(batch.completedAt).not.toBeNull();
    await waitFor(
      async () => (await notificationsOf(fx.app, user.user.id, `batch.completed:${id}`)).length === 1,
      { what: "the notification" },
    );
    const [notification] = await notificationsOf(fx.app, user.user.id, `batch.completed:${id}`);
    expect(notification).toMatchObject({
      kind: "batch.completed",
      body: "3 of 3 photos identified.",
      data: { batchId: id, completed: 3, total: 3 },
    });
  });
});

describe("head-of-line", () => {
  test("with the slow lane full of long batches, a fast job completes while they still run", async () => {
    // The providers hold every call (with deadlines longer than the test), so no batch can finish while the fast
    // job runs, however loaded the machine: the test needs no timing assertion, only the order of events.
    fx.sim.control.hang("plant-id");
    fx.sim.control.hang("plantnet");
    const user = await registerUser(fx.app);
    // One process for both lanes: even there, the lanes do not share slots.
    await worker(["slow", "fast"], {
      QUEUE_SLOW_CONCURRENCY: "2",
      PLANT_ID_TIMEOUT_MS: "80000",
      PLANT_ID_HEALTH_TIMEOUT_MS: "80000",
      PLANTNET_TIMEOUT_MS: "80000",
    });
    const batches: string[] = [];
    for (let i = 0; i < 3; i++) {
      const form = new FormData();
      for (const bytes of [await jpeg(), await jpeg()])
        form.append("images", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "p.jpg");
      const res = await fx.app.request("/v1/identification-batches", {
        method: "POST",
        headers: user.headers,
        body: form,
      });
      expect(res.status).toBe(202);
      batches.push(((await res.json()) as { id: string }).id);
    }
    // Both slow slots are inside a batch, waiting on the providers.
    await waitFor(async () => fx.sim.control.hangingCount() >= 2, { what: "a full slow lane" });

    const { enqueue } = await import("../../src/infra/queues.ts");
    await enqueue(
      fx.app.deps,
      "notification.send",
      { userId: user.user.id, key: "hol", kind: "test.head_of_line", title: "Fast" },
      { groupId: `hol:${user.user.id}` },
    );
    await waitFor(() => notificationsOf(fx.app, user.user.id, "hol").then((n) => n.length === 1), {
      what: "the fast job",
    });

    const statuses = await fx.app.deps.db.primary
      .selectFrom("identification_batches")
      .select("status")
      .where("id", "in", batches)
      .execute();
    // Done while every batch was still being identified (their provider calls still held).
    expect(statuses.filter((s) => s.status === "completed")).toHaveLength(0);
    expect(fx.sim.control.hangingCount()).toBeGreaterThanOrEqual(2);
    fx.sim.control.reset();
  });
});
