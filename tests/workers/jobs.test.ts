/**
 * Each job run in this process, twice where it matters: a job delivered twice (its worker died after the work,
 * before the acknowledgement) must leave one result, one notification, one e-mail.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import type { JobName, JobPayload } from "../../src/infra/job-catalogue.ts";
import { parsePayload } from "../../src/infra/job-catalogue.ts";
import { messageIdFor } from "../../src/infra/mailer.ts";
import type { Lane } from "../../src/infra/queues.ts";
import { photoReferenceCount } from "../../src/modules/photos/index.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import type { JobContext, WorkerDeps } from "../../workers/job-types.ts";
import { jobs } from "../../workers/jobs/index.ts";
import { markOwnersWrite } from "../../workers/owner-write.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRow, notificationsOf, submitAsync } from "../helpers/background.ts";
import {
  filesUnder,
  identifyEnv,
  mediaDir,
  objectKeysOf,
  removeDir,
  startSimulator,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { inProcessWorkerDeps, removeQueueKeys } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let dir: string;
let outbox: string;
let app: TestApp;
let deps: WorkerDeps;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  outbox = await mediaDir();
  app = await createTestApp(identifyEnv(sim, dir));
  deps = await inProcessWorkerDeps(app, { ...identifyEnv(sim, dir), MAIL_OUTBOX_DIR: outbox });
});
afterAll(async () => {
  await deps.close();
  await removeQueueKeys(app);
  await app.close();
  await sim.stop();
  await removeDir(dir);
  await removeDir(outbox);
});

function ctx(lane: Lane): JobContext {
  return {
    signal: new AbortController().signal,
    attempt: 1,
    maxAttempts: 3,
    jobId: crypto.randomUUID(),
    lane,
    logger: deps.logger,
  };
}

/** As the lane runs it: the job, then its owner's write marker (workers/owner-write.ts). */
async function run<N extends JobName>(name: N, payload: unknown, lane: Lane) {
  const parsed = parsePayload(name, payload) as JobPayload<N>;
  const result = await jobs[name].run(deps, parsed, ctx(lane));
  await markOwnersWrite(deps, parsed);
  return result;
}

/** Jobs the run enqueued, read back from the lane (the in-process deps share the app's queue namespace). */
async function waitingJobs(lane: Lane) {
  const queue = app.deps.queues.queue(lane);
  return Promise.all((await queue.getWaitingJobs()).map((id) => queue.getJob(id)));
}

describe("notification.send", () => {
  test("delivered twice, it leaves one notification", async () => {
    const user = await registerUser(app);
    const payload = {
      userId: user.user.id,
      key: "twice",
      kind: "identification.completed",
      title: "Ready",
      data: { a: 1 },
    };
    expect(await run("notification.send", payload, "fast")).toEqual({ inserted: true, emailed: false });
    expect(await run("notification.send", payload, "fast")).toEqual({ inserted: false, emailed: false });
    const rows = await notificationsOf(app, user.user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ title: "Ready", data: { a: 1 }, read_at: null });
  });

  test("a user who asked for e-mail also gets an email.send job keyed by the notification", async () => {
    const user = await registerUser(app);
    await app.deps.db.primary
      .updateTable("users")
      .set({ preferences: { emailNotifications: true } })
      .where("id", "=", user.user.id)
      .execute();
    const key = `mailme-${crypto.randomUUID()}`;
    expect(
      await run(
        "notification.send",
        { userId: user.user.id, key, kind: "batch.completed", title: "Batch done", body: "3 of 3" },
        "fast",
      ),
    ).toEqual({
      inserted: true,
      emailed: true,
    });
    const mails = (await waitingJobs("fast")).filter(
      (j) => (j.data.payload as { key?: string }).key === `notification:${user.user.id}:${key}`,
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.data).toMatchObject({
      name: "email.send",
      payload: { to: user.email, subject: "Batch done", text: "3 of 3" },
    });
  });
});

describe("email.send without SMTP_URL", () => {
  test("writes one .eml file per key to the outbox, however often it runs", async () => {
    const key = `outbox-${crypto.randomUUID()}`;
    const payload = { key, to: "someone@example.test", subject: "Hello", text: "Plain text body" };
    expect(await run("email.send", payload, "fast")).toEqual({ sent: true, messageId: messageIdFor(key) });
    expect(await run("email.send", payload, "fast")).toEqual({ sent: false });
    const files = (await readdir(outbox)).filter((f) => f.startsWith(key));
    expect(files).toEqual([`${key}.eml`]);
    const eml = await readFile(join(outbox, files[0]!), "utf8");
    expect(eml).toContain(`Message-ID: ${messageIdFor(key)}`);
    expect(eml).toContain("Subject: Hello");
    expect(eml).toContain("Plain text body");
    const row = await app.deps.db.primary
      .selectFrom("email_deliveries")
      .selectAll()
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "sent", transport: "outbox", attempts: 1 });
  });
});

describe("identification.run", () => {
  test("delivered twice, it identifies once and its owner is notified once", async () => {
    const user = await registerUser(app);
    const id = await submitAsync(app, user, [await jpeg()]);
    const payload = { identificationId: id, userId: user.user.id };
    const first = await run("identification.run", payload, "default");
    expect(first).toMatchObject({ status: "completed" });
    const completedAt = (await identificationRow(app, id)).updated_at;
    const calls = sim.control.calls("plant-id");
    expect(await run("identification.run", payload, "default")).toEqual(first);
    expect(sim.control.calls("plant-id")).toBe(calls);
    expect((await identificationRow(app, id)).updated_at).toEqual(completedAt);
    // Both deliveries wrote the in-app notification themselves (durable in PostgreSQL, not a job Redis could
    // lose); its key keeps it to one, and no notification.send job is left for the fast lane.
    const notify = (await waitingJobs("fast")).filter(
      (j) => (j.data.payload as { key?: string }).key === `identification.completed:${id}`,
    );
    expect(notify).toHaveLength(0);
    expect(await notificationsOf(app, user.user.id, `identification.completed:${id}`)).toHaveLength(1);
  });

  test("an identification deleted before its turn is skipped without asking any provider", async () => {
    const user = await registerUser(app);
    const id = await submitAsync(app, user, [await jpeg()]);
    expect(
      (await app.request(`/v1/identifications/${id}`, { method: "DELETE", headers: user.headers })).status,
    ).toBe(204);
    const calls = sim.control.calls("plant-id");
    expect(
      await run("identification.run", { identificationId: id, userId: user.user.id }, "default"),
    ).toEqual({ status: "skipped", reason: "deleted" });
    expect(sim.control.calls("plant-id")).toBe(calls);
  });
});

describe("identification.batch", () => {
  test("identifies every photo, fails only the photo that cannot be read, and resumes without redoing finished ones", async () => {
    const user = await registerUser(app);
    const form = new FormData();
    for (let i = 0; i < 3; i++)
      form.append(
        "images",
        new Blob([(await jpeg()) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
        `p${i}.jpg`,
      );
    const res = await app.request("/v1/identification-batches", {
      method: "POST",
      headers: user.headers,
      body: form,
    });
    expect(res.status).toBe(202);
    const { id: batchId, items } = (await res.json()) as {
      id: string;
      items: { identificationId: string }[];
    };
    // The second photo's stored copy is gone (a broken disk, an operator's mistake).
    const media = await app.deps.db.primary
      .selectFrom("media")
      .select("storage_key")
      .where("identification_id", "=", items[1]!.identificationId)
      .execute();
    await app.deps.storage.delete(media.map((m) => m.storage_key));

    const payload = { batchId, userId: user.user.id };
    expect(await run("identification.batch", payload, "slow")).toEqual({ completed: 2, total: 3 });
    const get = await app.request(`/v1/identification-batches/${batchId}`, { headers: user.headers });
    const batch = (await get.json()) as {
      status: string;
      progress: unknown;
      items: { status: string; failure?: { code: string } }[];
    };
    expect(batch.status).toBe("completed");
    expect(batch.progress).toEqual({ completed: 2, failed: 1, pending: 0, percent: 100 });
    expect(batch.items.map((i) => i.status)).toEqual(["completed", "failed", "completed"]);
    expect(batch.items[1]!.failure?.code).toBe("processing_failed");

    const calls = sim.control.calls("plantnet");
    expect(await run("identification.batch", payload, "slow")).toEqual({ completed: 2, total: 3 });
    expect(sim.control.calls("plantnet")).toBe(calls);
  });
});

describe("media.purge", () => {
  const deletedDaysAgo = (id: string, days: number) =>
    app.deps.db.primary
      .updateTable("identifications")
      .set({ deleted_at: sql`now() - make_interval(days => ${days})` })
      .where("id", "=", id)
      .execute();
  const remove = async (user: Awaited<ReturnType<typeof registerUser>>, id: string) =>
    expect(
      (await app.request(`/v1/identifications/${id}`, { method: "DELETE", headers: user.headers })).status,
    ).toBe(204);
  const photoRow = (key: string) =>
    app.deps.db.primary.selectFrom("photos").selectAll().where("storage_key", "=", key).executeTakeFirst();

  test("a photo shared by two identifications is deleted only after both are past the retention and its grace, once", async () => {
    const user = await registerUser(app);
    const other = await registerUser(app);
    const shared = await jpeg();
    const old = await submitAsync(app, user, [shared]);
    const sharer = await submitAsync(app, other, [shared]);
    const recent = await submitAsync(app, user, [await jpeg()]);
    const kept = await submitAsync(app, user, [await jpeg()]);
    const oldKeys = await objectKeysOf(app, old);
    // The same upload by another user: the same stored objects, referenced twice.
    expect(await objectKeysOf(app, sharer)).toEqual(oldKeys);
    expect(await photoReferenceCount(app.deps.db.primary, oldKeys[0]!)).toBe(2);
    await remove(user, old);
    await remove(user, recent);
    await deletedDaysAgo(old, 40);

    expect(await run("media.purge", { retentionDays: 30 }, "slow")).toMatchObject({ photosDeleted: 0 });
    // The old identification let go of the photo, the other user's still shows it.
    expect(await photoReferenceCount(app.deps.db.primary, oldKeys[0]!)).toBe(1);
    const files = await filesUnder(dir);
    for (const id of [recent, kept])
      expect(files).toEqual(expect.arrayContaining(await objectKeysOf(app, id)));
    expect(files).toEqual(expect.arrayContaining(oldKeys));
    const released = await app.deps.db.primary
      .selectFrom("media")
      .select("purged_at")
      .where("identification_id", "=", old)
      .executeTakeFirstOrThrow();
    expect(released.purged_at).not.toBeNull();

    // Now the other one is deleted and past the retention too: unreferenced, kept for the grace period...
    await remove(other, sharer);
    await deletedDaysAgo(sharer, 40);
    await run("media.purge", { retentionDays: 30 }, "slow");
    expect(await photoReferenceCount(app.deps.db.primary, oldKeys[0]!)).toBe(0);
    expect(await photoRow(oldKeys[0]!)).toBeDefined();
    expect(await filesUnder(dir)).toEqual(expect.arrayContaining(oldKeys));

    // ...and deleted once the grace has passed; the other photos stay.
    await app.deps.db.primary
      .updateTable("photos")
      .set({ updated_at: sql`now() - interval '2 hours'` })
      .where("storage_key", "=", oldKeys[0]!)
      .execute();
    expect(await run("media.purge", { retentionDays: 30 }, "slow")).toMatchObject({
      photosDeleted: expect.any(Number),
    });
    const after = await filesUnder(dir);
    expect(after.filter((f) => oldKeys.includes(f))).toEqual([]);
    expect(await photoRow(oldKeys[0]!)).toBeUndefined();
    for (const id of [recent, kept])
      expect(after).toEqual(expect.arrayContaining(await objectKeysOf(app, id)));

    // Run again: nothing left to do for it.
    await run("media.purge", { retentionDays: 30 }, "slow");
    const again = await app.deps.db.primary
      .selectFrom("media")
      .select("purged_at")
      .where("identification_id", "=", old)
      .executeTakeFirstOrThrow();
    expect(again.purged_at).toEqual(released.purged_at);
  });
});

describe("cache.warm", () => {
  test("fills the species cache for the species identified most", async () => {
    const user = await registerUser(app);
    const id = await submitAsync(app, user, [await jpeg()]);
    await run("identification.run", { identificationId: id, userId: user.user.id }, "default");
    const speciesId = (await identificationRow(app, id)).top_species_id;
    expect(speciesId).not.toBeNull();
    await app.deps.cache.del("species-json", speciesId!);

    // The popularity query reads the replica: wait until it has replayed the identification.
    await waitFor(
      async () =>
        (await app.deps.db
          .replica!.selectFrom("identifications")
          .select("id")
          .where("id", "=", id)
          .where("status", "=", "completed")
          .executeTakeFirst()) !== undefined,
    );
    const result = (await run("cache.warm", { topN: 1_000 }, "slow")) as { warmed: number };
    expect(result.warmed).toBeGreaterThan(0);
    expect(JSON.stringify(await app.deps.cache.get("species-json", speciesId!))).toContain(speciesId!);
  });

  test("warms the first page of the species list: the next unfiltered list request is a cache hit", async () => {
    // Another test's species write may have dropped the lists: start from none.
    await app.deps.cache.invalidateTags(["species-list"]);
    const listHits = async () =>
      (await app.deps.metrics.cacheHits.get()).values.find((v) => v.labels.cache === "species-list")?.value ??
      0;
    const result = (await run("cache.warm", { topN: 1 }, "slow")) as { warmedLists: number };
    expect(result.warmedLists).toBeGreaterThan(1); // the unfiltered page and at least one family's
    const before = await listHits();
    const res = await app.request("/v1/species");
    expect(res.status).toBe(200);
    expect(SpeciesPageSchema.parse(await res.json()).data.length).toBeGreaterThan(0);
    expect(await listHits()).toBe(before + 1);
  });
});
