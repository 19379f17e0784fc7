/**
 * The slow-lane csp.daily-report job, run in this process: the day's report to every admin, once per admin and
 * day however often the job runs, nothing on a quiet day, and the retention of the daily aggregates.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { parsePayload } from "../../src/infra/job-catalogue.ts";
import { buildDailyReport } from "../../src/modules/csp-reports/csp-daily-report.ts";
import { addDays, createCspReportsService } from "../../src/modules/csp-reports/csp-reports.service.ts";
import type { JobContext, WorkerDeps } from "../../workers/job-types.ts";
import { jobs } from "../../workers/jobs/index.ts";
import { startScheduler } from "../../workers/scheduler.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { notificationsOf } from "../helpers/background.ts";
import { waitForReplicaReplay } from "../helpers/replica.ts";
import { inProcessWorkerDeps, removeQueueKeys } from "../helpers/workers.ts";

let app: TestApp;
let deps: WorkerDeps;

beforeAll(async () => {
  app = await createTestApp();
  deps = await inProcessWorkerDeps(app);
});
afterAll(async () => {
  await deps.close();
  await removeQueueKeys(app);
  await app.close();
});

const ctx = (): JobContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  maxAttempts: 3,
  jobId: crypto.randomUUID(),
  lane: "slow",
  logger: deps.logger,
});

const run = (payload: unknown) =>
  jobs["csp.daily-report"].run(deps, parsePayload("csp.daily-report", payload), ctx()) as Promise<{
    day: string;
    total: number;
    admins: number;
    purged: number;
  }>;

/** A day of its own for this run (30 to 60 days ago), inside the retention: no other test reports on it. */
const day = addDays(new Date().toISOString().slice(0, 10), -(30 + Math.floor(Math.random() * 30)));
const origin = `https://new-${crypto.randomUUID().slice(0, 8)}.example.test`;

async function ingestOn(d: string, blocked: string, times: number) {
  const service = createCspReportsService({
    ...app.deps,
    clock: new FakeClock(Date.parse(`${d}T08:00:00Z`)),
  });
  const body = new TextEncoder().encode(
    JSON.stringify({
      "csp-report": {
        "document-uri": "https://plant.community/v1/docs",
        "effective-directive": "frame-src",
        "blocked-uri": `${blocked}/embed`,
      },
    }),
  );
  for (let i = 0; i < times; i++) await service.ingest("application/csp-report", body, "UA");
  await waitForReplicaReplay(app.deps); // the report reads the replica
}

async function fastLaneMails(key: string) {
  const queue = app.deps.queues.queue("fast");
  const waiting = await Promise.all((await queue.getWaitingJobs()).map((id) => queue.getJob(id)));
  return waiting.filter((j) => (j.data.payload as { key?: string }).key === key);
}

describe("csp.daily-report", () => {
  test("sends each admin the day's figures, in-app and by e-mail, once however often it runs", async () => {
    const admin = await registerUser(app, { role: "admin" });
    const member = await registerUser(app);
    await ingestOn(day, origin, 3);

    // The report reads the replica through the worker's own connections: wait until they see all three.
    await waitFor(async () => (await buildDailyReport(deps, day)).total === 3, {
      what: "the worker's replica reads to see the day's reports",
    });
    const first = await run({ day });
    expect(first).toMatchObject({ day, total: 3 });
    expect(first.admins).toBeGreaterThanOrEqual(1);
    await run({ day });

    const key = `csp.daily-report:${day}`;
    const notes = await notificationsOf(app, admin.user.id, key);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      kind: "security.csp_report",
      title: `CSP report ${day}: 3 violations, 1 new type`,
      data: { day, total: 3 },
    });
    expect(notes[0]!.body).toContain("frame-src: 3");
    expect(notes[0]!.body).toContain(`frame-src blocked ${origin}`);
    expect(await notificationsOf(app, member.user.id, key)).toHaveLength(0);

    // email.send sends once per key: the two enqueues of the two runs make one message.
    const mails = await fastLaneMails(`${key}:${admin.user.id}`);
    expect(mails.length).toBeGreaterThanOrEqual(1);
    expect(mails[0]!.data).toMatchObject({
      name: "email.send",
      payload: { to: admin.email, subject: `CSP report ${day}: 3 violations, 1 new type` },
    });
  });

  test("a day without violations sends nothing", async () => {
    const admin = await registerUser(app, { role: "admin" });
    const quiet = addDays(day, -1_000);
    expect(await run({ day: quiet })).toMatchObject({ day: quiet, total: 0, admins: 0 });
    expect(await notificationsOf(app, admin.user.id, `csp.daily-report:${quiet}`)).toHaveLength(0);
    expect(await fastLaneMails(`csp.daily-report:${quiet}:${admin.user.id}`)).toHaveLength(0);
  });

  test("drops daily aggregates older than CSP_RETENTION_DAYS and keeps the younger ones", async () => {
    const reportDay = addDays(day, 1);
    const old = addDays(reportDay, -(app.config.csp.retentionDays + 1));
    const kept = addDays(reportDay, -(app.config.csp.retentionDays - 1));
    const oldOrigin = `https://old-${crypto.randomUUID().slice(0, 8)}.example.test`;
    await ingestOn(old, oldOrigin, 1);
    await ingestOn(kept, oldOrigin, 1);

    const result = await run({ day: reportDay });
    expect(result.purged).toBeGreaterThanOrEqual(1);
    const days = await app.deps.db.primary
      .selectFrom("csp_violations_daily")
      .select((eb) => eb.fn<string>("to_char", [eb.ref("day"), eb.val("YYYY-MM-DD")]).as("day"))
      .where("blocked_origin", "=", oldOrigin)
      .execute();
    expect(days.map((d) => d.day)).toEqual([kept]);
  });

  test("the slow lane's scheduler enqueues it once per UTC day, under the day's job id", async () => {
    const scheduler = startScheduler(deps);
    try {
      const jobId = `csp.daily-report:${Math.floor(Date.now() / 86_400_000)}`;
      const job = await waitFor(
        () =>
          app.deps.queues
            .queue("slow")
            .getJob(jobId)
            .catch(() => undefined),
        {
          what: "the scheduled csp.daily-report job",
        },
      );
      expect(job?.data).toMatchObject({ name: "csp.daily-report", payload: {} });
    } finally {
      scheduler.stop();
    }
  });

  test("without a day it reports yesterday (UTC)", async () => {
    const result = await run({});
    expect(result.day).toBe(addDays(new Date(deps.clock.now()).toISOString().slice(0, 10), -1));
  });
});
