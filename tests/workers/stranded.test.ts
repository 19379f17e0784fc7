import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertQueuedIdentification } from "../../src/modules/identification-batches/queued-identifications.repo.ts";
import { requeueStranded } from "../../src/modules/identifications/stranded.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";

let app: TestApp;
let free: TestUser;
let premium: TestUser;
beforeAll(async () => {
  app = await createTestApp();
  free = await registerUser(app);
  premium = await registerUser(app, { role: "premium" });
});
afterAll(() => app.close());

const request = { organs: ["leaf"], latitude: null, longitude: null, includeHealth: false };

/** A queued row as the API writes it just before enqueueing, `ageMs` ago, as if it had died in between. */
async function queuedRow(user: TestUser, ageMs: number) {
  const id = Bun.randomUUIDv7();
  await insertQueuedIdentification(
    app.deps.db.primary,
    { id, userId: user.user.id, createdAt: new Date(Date.now() - ageMs), request },
    [],
  );
  return id;
}

const waitingIn = (lane: "default" | "priority") => app.deps.queues.queue(lane).getWaitingJobs();

// Other suites leave queued rows minutes old in the shared database: this one's rows are a month old and the
// bound is 29 days, so the sweep sees only them, however long the run has been going.
const MONTH_MS = 30 * 86_400_000;
const BOUND_MS = 29 * 86_400_000;

describe("queued work whose job was never enqueued", () => {
  test("is enqueued again on its lane once it is older than the bound, and only once", async () => {
    const stranded = await queuedRow(free, MONTH_MS);
    const strandedPremium = await queuedRow(premium, MONTH_MS);
    const fresh = await queuedRow(free, BOUND_MS - 60_000);

    const first = await requeueStranded(app.deps, { olderThanMs: BOUND_MS, limit: 100 });
    expect(first.identifications).toBe(2);
    expect(await waitingIn("default")).toEqual([`identification.run:${stranded}`]);
    expect(await waitingIn("priority")).toEqual([`identification.run:${strandedPremium}`]);
    expect(await waitingIn("default")).not.toContain(`identification.run:${fresh}`);

    // The rows are still queued (no worker here): the next sweep finds them, but the job ids are taken.
    await requeueStranded(app.deps, { olderThanMs: BOUND_MS, limit: 100 });
    expect(await waitingIn("default")).toEqual([`identification.run:${stranded}`]);
    expect(await waitingIn("priority")).toEqual([`identification.run:${strandedPremium}`]);
  });

  test("a deleted identification is left alone", async () => {
    const id = await queuedRow(free, MONTH_MS);
    await app.deps.db.primary
      .updateTable("identifications")
      .set({ deleted_at: new Date() })
      .where("id", "=", id)
      .execute();
    await requeueStranded(app.deps, { olderThanMs: BOUND_MS, limit: 100 });
    expect(await waitingIn("default")).not.toContain(`identification.run:${id}`);
  });
});
