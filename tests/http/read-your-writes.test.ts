import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { type PgPairControl, pgPairFromControlFile } from "../helpers/servers/pg-pair.ts";

// Pauses replay on the shared test replica; each test resumes it before the next starts.
let pair: PgPairControl;
let t: TestApp;
let other: TestApp;
beforeAll(async () => {
  pair = pgPairFromControlFile(testEnv.pgPairControl);
  // A window of a minute: whatever these tests see, it is not the window running out. The lag bound is far
  // away too, so the replica stays usable while paused.
  const env = {
    READ_AFTER_WRITE_WINDOW_MS: "60000",
    REPLICA_MAX_LAG_MS: "60000",
    JWT_SECRET: `test-secret-${crypto.randomUUID()}`,
  };
  t = await createTestApp(env);
  // A second API instance sharing t's Redis key space: another machine of the same deployment.
  other = await createTestApp({ ...env, REDIS_KEY_PREFIX: t.config.redis.keyPrefix });
});
afterEach(() => pair.resumeReplay());
afterAll(async () => {
  await other.close();
  await t.close();
});

async function displayNameSeenBy(app: TestApp, u: TestUser): Promise<string> {
  const res = await app.request("/v1/me", { headers: u.headers });
  expect(res.status).toBe(200);
  return UserSchema.parse(await res.json()).displayName;
}

/** Changes the name straight on the primary, as another service would: no write position recorded. */
async function renameBehindTheApi(u: TestUser, displayName: string) {
  await t.deps.db.primary
    .updateTable("users")
    .set({ display_name: displayName })
    .where("id", "=", u.user.id)
    .execute();
}

describe("read-your-writes", () => {
  test("a client reads its write back from the primary while the replica lags, and from the replica once it has replayed it", async () => {
    const u = await registerUser(t);
    await pair.waitForCatchUp();
    await pair.pauseReplay();

    const patch = await t.request("/v1/me", jsonRequest("PATCH", { displayName: "Written" }, u.headers));
    expect(patch.status).toBe(200);
    // The replica has not replayed the write: only the primary can answer this, on either instance.
    expect(await displayNameSeenBy(t, u)).toBe("Written");
    expect(await displayNameSeenBy(other, u)).toBe("Written");

    await pair.resumeReplay();
    await pair.waitForCatchUp();
    // Now a change the API does not know of, on the primary only: a read that still shows "Written" came
    // from the replica, well inside the one-minute window.
    await pair.pauseReplay();
    await renameBehindTheApi(u, "Behind");
    await waitFor(async () => (await displayNameSeenBy(t, u)) === "Written", {
      what: "the client's reads to return to the replica",
    });
    await waitFor(async () => (await displayNameSeenBy(other, u)) === "Written", {
      what: "the other instance's reads to return to the replica",
    });
  });

  test("a client whose writes the replica has replayed reads from it, even while it lags behind others' writes", async () => {
    const u = await registerUser(t);
    await pair.waitForCatchUp();
    await t.deps.db.monitor?.check();
    await other.deps.db.monitor?.check();
    await pair.pauseReplay();
    await renameBehindTheApi(u, "Behind");
    expect(await displayNameSeenBy(t, u)).toBe("Test User");
  });
});
