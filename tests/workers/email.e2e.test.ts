import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { messageIdFor } from "../../src/infra/mailer.ts";
import { enqueue } from "../../src/infra/queues.ts";
import { FailedJobPageSchema, RetriedJobSchema } from "../../src/modules/jobs/jobs.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { failedJobsWhere } from "../helpers/background.ts";
import { expectProblem } from "../helpers/problem.ts";
import { freePort } from "../helpers/servers/free-port.ts";
import { header, startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";

let app: TestApp;
const workers: WorkerProcess[] = [];
const servers: TestSmtpServer[] = [];

beforeAll(async () => {
  app = await createTestApp();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await removeQueueKeys(app);
  await app.close();
});

async function fastWorker(smtpUrl: string, extra: Record<string, string> = {}) {
  const w = await startWorkerProcess(
    workerEnv(app, ["fast"], {
      SMTP_URL: smtpUrl,
      MAIL_FROM: "Plant Community <no-reply@plant.test>",
      ...extra,
    }),
  );
  workers.push(w);
  return w;
}

function mail(key: string) {
  return {
    key,
    to: "gardener@example.test",
    subject: `Your plant ${key}`,
    text: "It is a Monstera deliciosa.",
  };
}

describe("email.send over SMTP", () => {
  test("a message reaches the SMTP server once, with a Message-ID made from its key, even when the job runs twice", async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const worker = await fastWorker(smtp.url);
    const key = `welcome-${crypto.randomUUID()}`;

    await enqueue(app.deps, "email.send", mail(key), { groupId: "mail:test" });
    await waitFor(() => smtp.messages.length === 1, { timeoutMs: 10_000, what: "the message" });
    const [message] = smtp.messages;
    expect(message!.to).toEqual(["gardener@example.test"]);
    expect(message!.from).toBe("no-reply@plant.test");
    expect(header(message!.raw, "Subject")).toBe(`Your plant ${key}`);
    expect(header(message!.raw, "Message-ID")).toBe(messageIdFor(key));
    expect(message!.raw).toContain("It is a Monstera deliciosa.");

    // The same job delivered again (as after a crash before its acknowledgement): no second message.
    await enqueue(app.deps, "email.send", mail(key), { groupId: "mail:test" });
    await worker.waitForLine(
      (l) => l.message === "e-mail already sent; delivery skipped" && l.key === key,
      "the skipped delivery",
    );
    expect(smtp.messages).toHaveLength(1);
    const row = await app.deps.db.primary
      .selectFrom("email_deliveries")
      .selectAll()
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: "sent",
      transport: "smtp",
      attempts: 1,
      message_id: messageIdFor(key),
    });
  });

  test("a message that cannot be sent lands in the failed list after its attempts, and an admin's retry delivers it", async () => {
    const port = await freePort();
    await fastWorker(`smtp://127.0.0.1:${port}`, { QUEUE_FAST_ATTEMPTS: "3" });
    const admin = await registerUser(app, { role: "admin" });
    const key = `receipt-${crypto.randomUUID()}`;

    await enqueue(app.deps, "email.send", mail(key), { groupId: "mail:test" });
    const [dead] = (await waitFor(
      async () => {
        const rows = await failedJobsWhere(app, "key", key);
        return rows.length > 0 && rows;
      },
      { timeoutMs: 15_000, what: "the dead letter" },
    )) as Awaited<ReturnType<typeof failedJobsWhere>>;
    expect(dead).toMatchObject({ job_name: "email.send", lane: "fast", attempts: 3, retried_at: null });
    expect(dead!.error).toContain("ECONNREFUSED");

    const list = await app.request("/v1/admin/jobs/failed?job=email.send&lane=fast&limit=100", {
      headers: admin.headers,
    });
    expect(list.status).toBe(200);
    expect(list.headers.get("content-type")).toStartWith("application/json");
    const page = FailedJobPageSchema.parse(await list.json());
    const listed = page.data.find((f) => f.id === dead!.id);
    expect(listed).toMatchObject({ job: "email.send", lane: "fast", attempts: 3, payload: mail(key) });
    expect(listed!.error.message).toContain("ECONNREFUSED");

    // The mail server comes back; the admin re-drives the job.
    const smtp = await startSmtpServer(port);
    servers.push(smtp);
    const retry = await app.request(`/v1/admin/jobs/${dead!.id}/retry`, {
      method: "POST",
      headers: admin.headers,
    });
    expect(retry.status).toBe(202);
    const retried = RetriedJobSchema.parse(await retry.json());
    expect(retried).toMatchObject({ id: dead!.id, job: "email.send", lane: "fast" });
    await waitFor(() => smtp.messages.length === 1, { timeoutMs: 10_000, what: "the re-driven message" });
    expect(header(smtp.messages[0]!.raw, "Message-ID")).toBe(messageIdFor(key));

    const after = FailedJobPageSchema.parse(
      await (
        await app.request("/v1/admin/jobs/failed?job=email.send&limit=100", { headers: admin.headers })
      ).json(),
    );
    expect(after.data.map((f) => f.id)).not.toContain(dead!.id);
    const audit = await app.deps.db.primary
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", dead!.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "job.retry",
      entity_type: "failed_job",
      actor_user_id: admin.user.id,
    });
    expect(audit[0]!.changes).toMatchObject({ after: { job: "email.send", retryJobId: retried.retryJobId } });

    await expectProblem(
      await app.request(`/v1/admin/jobs/${dead!.id}/retry`, { method: "POST", headers: admin.headers }),
      409,
      "conflict",
    );
  });
});
