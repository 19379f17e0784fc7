/**
 * What removes direct uploads besides a claim: the scheduled uploads.sweep job (slow lane) for uploads older than
 * UPLOADS_UNCLAIMED_MAX_AGE_HOURS, and account erasure for all of an account's uploads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parsePayload } from "../../src/infra/job-catalogue.ts";
import { eraseAccount } from "../../src/modules/account-data/erasure.ts";
import { UploadTicketSchema } from "../../src/modules/uploads/uploads.schemas.ts";
import type { JobContext, WorkerDeps } from "../../workers/job-types.ts";
import { jobs } from "../../workers/jobs/index.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { filesUnder, mediaDir, removeDir } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { inProcessWorkerDeps, removeQueueKeys } from "../helpers/workers.ts";

let app: TestApp;
let deps: WorkerDeps;
let dir: string;

beforeAll(async () => {
  dir = await mediaDir();
  app = await createTestApp({ STORAGE_DRIVER: "local", MEDIA_DIR: dir });
  deps = await inProcessWorkerDeps(app, { STORAGE_DRIVER: "local", MEDIA_DIR: dir });
});
afterAll(async () => {
  await deps.close();
  await removeQueueKeys(app);
  await app.close();
  await removeDir(dir);
});

const ctx = (): JobContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  maxAttempts: 3,
  jobId: crypto.randomUUID(),
  lane: "slow",
  logger: deps.logger,
});

/** An upload received (the object is stored), created `ageHours` ago. */
async function receivedUpload(user: TestUser, ageHours = 0): Promise<string> {
  const bytes = await jpeg({ width: 120, height: 120 });
  const res = await app.request(
    "/v1/uploads",
    jsonRequest("POST", { contentType: "image/jpeg", contentLength: bytes.byteLength }, user.headers),
  );
  const ticket = UploadTicketSchema.parse(await res.json());
  const put = await app.request(ticket.url, { method: "PUT", headers: ticket.headers, body: bytes });
  expect(put.status).toBe(204);
  if (ageHours > 0) {
    await app.deps.db.primary
      .updateTable("uploads")
      .set({ created_at: new Date(Date.now() - ageHours * 3_600_000) })
      .where("id", "=", ticket.uploadId)
      .execute();
  }
  return ticket.uploadId;
}

const uploadIdsOf = async (userId: string) =>
  (await app.deps.db.primary.selectFrom("uploads").select("id").where("user_id", "=", userId).execute()).map(
    (r) => r.id,
  );

describe("uploads.sweep", () => {
  test("removes uploads older than the limit, rows and objects, and nothing else", async () => {
    const user = await registerUser(app);
    const old = await receivedUpload(user, 25);
    const fresh = await receivedUpload(user, 23);
    // Another file under the media directory that is no upload must survive.
    await app.deps.storage.put(
      "photos/not-an-upload.jpg",
      await jpeg({ width: 120, height: 120 }),
      "image/jpeg",
    );

    const result = (await jobs["uploads.sweep"].run(deps, parsePayload("uploads.sweep", {}), ctx())) as {
      removed: number;
    };
    // At least this test's old upload (tests share the database: others' old uploads may go too).
    expect(result.removed).toBeGreaterThanOrEqual(1);
    expect(await uploadIdsOf(user.user.id)).toEqual([fresh]);
    const files = await filesUnder(dir);
    expect(files).not.toContain(`uploads/${old}`);
    expect(files).toContain(`uploads/${fresh}`);
    expect(files).toContain("photos/not-an-upload.jpg");

    // A rerun finds nothing more of this user's to remove.
    await jobs["uploads.sweep"].run(deps, parsePayload("uploads.sweep", {}), ctx());
    expect(await uploadIdsOf(user.user.id)).toEqual([fresh]);
  });
});

describe("account erasure", () => {
  test("removes the account's uploads, rows and objects", async () => {
    const user = await registerUser(app);
    const ids = [await receivedUpload(user), await receivedUpload(user)];
    const report = await eraseAccount(app.deps, user.user.id, new AbortController().signal);
    expect(report.uploads).toBe(2);
    expect(await uploadIdsOf(user.user.id)).toEqual([]);
    const files = await filesUnder(dir);
    for (const id of ids) expect(files).not.toContain(`uploads/${id}`);
  });
});
