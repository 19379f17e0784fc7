import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LANES } from "../../src/config/queues.ts";
import {
  backoffDelay,
  InvalidJobPayloadError,
  JOB_NAMES,
  JOBS,
  laneFor,
  parseEnvelope,
} from "../../src/infra/job-catalogue.ts";
import { enqueue } from "../../src/infra/queues.ts";
import { jobs } from "../../workers/jobs/index.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { removeQueueKeys } from "../helpers/workers.ts";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await removeQueueKeys(app);
  await app.close();
});

const userId = "0190f5a2-7b1c-7d3e-8f00-1234567890ab";

describe("routing table", () => {
  test("every job name maps to one of the four lanes and has a worker implementation", () => {
    expect(JOB_NAMES.length).toBeGreaterThanOrEqual(6);
    for (const name of JOB_NAMES) {
      expect(LANES).toContain(JOBS[name].lane);
      expect(typeof jobs[name].run).toBe("function");
    }
    expect(Object.keys(jobs).sort()).toEqual([...JOB_NAMES].sort());
  });

  test("jobs go to the lanes the issue names", () => {
    expect(laneFor("identification.run")).toBe("default");
    expect(laneFor("identification.batch")).toBe("slow");
    expect(laneFor("notification.send")).toBe("fast");
    expect(laneFor("email.send")).toBe("fast");
    expect(laneFor("media.purge")).toBe("slow");
    expect(laneFor("cache.warm")).toBe("slow");
    expect(laneFor("csp.daily-report")).toBe("slow");
  });

  test("a premium user's identification goes to the priority lane, nobody else's and nothing else", () => {
    expect(laneFor("identification.run", "premium")).toBe("priority");
    expect(laneFor("identification.run", "user")).toBe("default");
    expect(laneFor("identification.run", "admin")).toBe("default");
    expect(laneFor("identification.batch", "premium")).toBe("slow");
    expect(laneFor("notification.send", "premium")).toBe("fast");
  });
});

describe("payload validation when enqueued", () => {
  test("a valid job lands in its lane's queue, wrapped in an envelope with its name", async () => {
    const job = await enqueue(
      app.deps,
      "notification.send",
      { userId, key: "k-1", kind: "identification.completed", title: "Ready" },
      { groupId: `user:${userId}`, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    );
    expect(job.lane).toBe("fast");
    const stored = await app.deps.queues.queue("fast").getJob(job.id);
    expect(stored.groupId).toBe(`user:${userId}`);
    const { envelope, payload } = parseEnvelope(stored.data);
    expect(envelope.name).toBe("notification.send");
    expect(envelope.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    // Defaults are filled in by the schema before the job is stored.
    expect(payload).toEqual({
      userId,
      key: "k-1",
      kind: "identification.completed",
      title: "Ready",
      body: "",
      data: {},
    });
    expect(await app.deps.queues.queue("default").getWaitingCount()).toBe(0);
  });

  test("a premium identification is stored in the priority lane's queue", async () => {
    const identificationId = Bun.randomUUIDv7();
    const job = await enqueue(
      app.deps,
      "identification.run",
      { identificationId, userId },
      { groupId: `user:${userId}`, userRole: "premium" },
    );
    expect(job.lane).toBe("priority");
    expect((await app.deps.queues.queue("priority").getJob(job.id)).data.name).toBe("identification.run");
  });

  test("an invalid payload is refused before anything reaches Redis", async () => {
    const before = await app.deps.queues.queue("fast").getWaitingCount();
    const attempt = enqueue(
      app.deps,
      "email.send",
      { key: "k", to: "not-an-address", subject: "Hi", text: "x" },
      { groupId: "g" },
    );
    await expect(attempt).rejects.toBeInstanceOf(InvalidJobPayloadError);
    await expect(attempt).rejects.toThrow(/to/);
    expect(await app.deps.queues.queue("fast").getWaitingCount()).toBe(before);
  });

  test("unknown fields are refused (payloads are strict)", async () => {
    await expect(
      enqueue(app.deps, "cache.warm", { topN: 5, extra: true } as never, { groupId: "system:cache.warm" }),
    ).rejects.toBeInstanceOf(InvalidJobPayloadError);
  });
});

describe("payload validation when consumed", () => {
  test("an envelope naming an unknown job is rejected", () => {
    expect(() => parseEnvelope({ name: "user.delete", payload: {}, enqueuedAt: Date.now() })).toThrow(
      InvalidJobPayloadError,
    );
  });

  test("a known job with a payload that does not match its schema is rejected", () => {
    expect(() =>
      parseEnvelope({
        name: "identification.run",
        payload: { identificationId: "nope", userId },
        enqueuedAt: Date.now(),
      }),
    ).toThrow(/identificationId/);
  });
});

describe("backoff", () => {
  const lane = { concurrency: 1, timeLimitMs: 1000, attempts: 5, backoffMs: 1000, backoffMaxMs: 10_000 };

  test("grows exponentially with equal jitter between half and all of the step", () => {
    expect(backoffDelay(lane, 1, () => 0)).toBe(500);
    expect(backoffDelay(lane, 1, () => 1)).toBe(1000);
    expect(backoffDelay(lane, 3, () => 0)).toBe(2000);
    expect(backoffDelay(lane, 3, () => 1)).toBe(4000);
  });

  test("is capped at the maximum", () => {
    expect(backoffDelay(lane, 20, () => 1)).toBe(10_000);
    expect(backoffDelay(lane, 20, () => 0)).toBe(5_000);
  });
});
