import { describe, expect, test } from "bun:test";
import { groupmqKeys, groupmqNamespace } from "../../src/infra/groupmq-keys.ts";
import { laneNamespace } from "../../src/infra/queues.ts";
import { RetriedJobSchema } from "../../src/modules/jobs/jobs.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { failedJobsWhere, identificationRow, notificationsOf, submitAsync } from "../helpers/background.ts";
import { jpeg } from "../helpers/images.ts";
import { useWorkerE2e } from "../helpers/worker-e2e.ts";

const fx = useWorkerE2e();
const worker = (extra: Record<string, string> = {}) => fx.startWorker(["default", "fast"], extra);

async function deadLetterOf(field: string, value: string) {
  await waitFor(async () => (await failedJobsWhere(fx.app, field, value)).length > 0, {
    timeoutMs: 15_000,
    what: "the dead letter",
  });
  const rows = await failedJobsWhere(fx.app, field, value);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe("a job that fails all its attempts", () => {
  test("is kept as failed, its identification shows failed and the user is told; a retry completes it", async () => {
    for (const p of ["plant-id", "plant-id-health", "plantnet"] as const) fx.sim.control.failWith(p, 503);
    const user = await registerUser(fx.app);
    const admin = await registerUser(fx.app, { role: "admin" });
    const first = await worker({ QUEUE_DEFAULT_ATTEMPTS: "2" });
    const id = await submitAsync(fx.app, user, [await jpeg()]);

    const dead = await deadLetterOf("identificationId", id);
    expect(dead).toMatchObject({
      job_name: "identification.run",
      lane: "default",
      attempts: 2,
      error_name: "ProvidersUnavailableError",
    });
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "failed", {
      what: "the failed status",
    });
    expect((await identificationRow(fx.app, id)).failure).toEqual({
      code: "providers_unavailable",
      message: "Neither identification provider was available.",
    });
    await waitFor(
      async () => (await notificationsOf(fx.app, user.user.id, `identification.failed:${id}`)).length === 1,
      {
        what: "the failure notification",
      },
    );

    // Providers are back (a fresh worker: the old one's breakers are open); the admin re-drives the job.
    await first.stop();
    fx.sim.control.reset();
    await worker();
    const res = await fx.app.request(`/v1/admin/jobs/${dead.id}/retry`, {
      method: "POST",
      headers: admin.headers,
    });
    expect(res.status).toBe(202);
    expect(RetriedJobSchema.parse(await res.json())).toMatchObject({
      id: dead.id,
      job: "identification.run",
      lane: "default",
    });
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
      timeoutMs: 15_000,
      what: "completion",
    });
    expect((await identificationRow(fx.app, id)).failure).toBeNull();
    await waitFor(
      async () =>
        (await notificationsOf(fx.app, user.user.id, `identification.completed:${id}`)).length === 1,
      {
        what: "the completion notification",
      },
    );
  });

  test("running past the lane's time limit is a failure, even though groupmq's lease keeps being renewed", async () => {
    // Providers that never answer (a latency would let a later attempt hit the answer an earlier one cached).
    for (const p of ["plant-id", "plant-id-health", "plantnet"] as const) fx.sim.control.hang(p);
    const user = await registerUser(fx.app);
    // The lease (3 s in tests, renewed by heartbeats) would let the job run for ever; the 700 ms limit stops it.
    await worker({ QUEUE_DEFAULT_TIME_LIMIT_MS: "700", QUEUE_DEFAULT_ATTEMPTS: "2" });
    const id = await submitAsync(fx.app, user, [await jpeg()]);
    const dead = await deadLetterOf("identificationId", id);
    expect(dead).toMatchObject({ error_name: "JobTimeoutError", attempts: 2 });
    expect(dead.error).toContain("700 ms");
    await waitFor(async () => (await identificationRow(fx.app, id)).status === "failed", {
      what: "the failed status",
    });
    expect((await identificationRow(fx.app, id)).failure?.code).toBe("timeout");
  });

  test("a job whose payload does not validate when consumed is dead-lettered at once, without retries", async () => {
    const w = await worker();
    const jobId = Bun.randomUUIDv7();
    // Written straight to the lane, bypassing enqueue(): an old producer, or a hand-made job.
    await fx.app.deps.queues.queue("fast").add({
      groupId: "bad",
      jobId,
      data: {
        name: "notification.send",
        payload: { userId: "not-a-uuid", key: jobId },
        enqueuedAt: Date.now(),
      } as never,
    });
    await waitFor(
      async () => {
        const row = await fx.app.deps.db.primary
          .selectFrom("failed_jobs")
          .selectAll()
          .where("job_id", "=", jobId)
          .executeTakeFirst();
        return row !== undefined;
      },
      { what: "the dead letter" },
    );
    const row = await fx.app.deps.db.primary
      .selectFrom("failed_jobs")
      .selectAll()
      .where("job_id", "=", jobId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ error_name: "InvalidJobPayloadError", attempts: 1, lane: "fast" });
    expect(row.error).toContain("userId");
    // The row is written inside the handler; groupmq removes the job only after the handler returns, and the
    // worker's log line arrives through a pipe: wait for both instead of reading them at once.
    const fastLane = groupmqNamespace(laneNamespace(fx.app.config.redis.keyPrefix, "fast"));
    const jobKey = groupmqKeys(fastLane).job(jobId);
    await waitFor(async () => (await fx.app.deps.queues.redis.exists(jobKey)) === 0, {
      what: "groupmq to remove the job from the lane",
    });
    await waitFor(() => w.lines.some((l) => l.message === "job payload rejected" && l.jobId === jobId), {
      what: "the worker's log line",
    });
    // One dead letter. (On a starved machine the test lease can run out before groupmq completes the job,
    // which hands it out once more: a redelivery, not a retry, and the dead letter is recorded idempotently.)
    const rows = await fx.app.deps.db.primary
      .selectFrom("failed_jobs")
      .select("attempts")
      .where("job_id", "=", jobId)
      .execute();
    expect(rows).toEqual([{ attempts: 1 }]);
  });
});
