/**
 * Issue #10 item 6: groupmq logs "Blocking found group but reserve failed" at warn level several times per
 * job when workers share a lane and a group holds more than one job (the group stays in the ready set while
 * its head runs). That is groupmq's normal flow: our logger keeps it at debug, so warn means something again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { enqueue } from "../../src/infra/queues.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { notificationsOf } from "../helpers/background.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";

let app: TestApp;
let worker: WorkerProcess;

beforeAll(async () => {
  app = await createTestApp();
  // Debug level, so the test sees the routine message happen and where it went.
  worker = await startWorkerProcess(
    workerEnv(app, ["fast"], { LOG_LEVEL: "debug", QUEUE_FAST_CONCURRENCY: "6" }),
  );
});
afterAll(async () => {
  await worker?.stop();
  await removeQueueKeys(app);
  await app?.close();
});

describe("groupmq's routine reserve race", () => {
  test("is logged at debug, never as a warning", async () => {
    const user = await registerUser(app);
    const jobs = 12;
    for (let i = 0; i < jobs; i++) {
      await enqueue(
        app.deps,
        "notification.send",
        { userId: user.user.id, key: `noise:${i}`, kind: "test.noise", title: `n${i}` },
        { groupId: `user:${user.user.id}` }, // one group: its jobs run one at a time, the others wait
      );
    }
    await waitFor(async () => (await notificationsOf(app, user.user.id)).length === jobs, {
      timeoutMs: 20_000,
      what: "every notification",
    });
    const routine = worker.lines.filter((l) => /reserve failed/.test(String(l.message ?? "")));
    expect(routine.length).toBeGreaterThan(0); // the race did happen in this run
    expect(routine.filter((l) => l.level !== "debug")).toEqual([]);
    expect(
      worker.lines.filter((l) => l.component === "groupmq" && l.level === "warn").map((l) => l.message),
    ).toEqual([]);
  });
});
