/** Shortcuts for tests of background work: submit async identifications, read their rows and notifications. */
import { sql } from "kysely";
import { acceptIdentification } from "../../src/modules/identifications/identifications.jobs.ts";
import { readIdentificationUpload } from "../../src/modules/identifications/identifications.upload.ts";
import type { TestApp } from "./app.ts";
import type { TestUser } from "./auth.ts";
import { uploadForm } from "./identify.ts";

/** An identification submitted for background processing; returns its id. */
export async function submitAsync(app: TestApp, user: TestUser, images: Uint8Array[]): Promise<string> {
  const request = new Request("http://test/v1/identifications", { method: "POST", body: uploadForm(images) });
  const upload = await readIdentificationUpload(request, app.config.uploads);
  const queued = await acceptIdentification(app.deps, upload, {
    userId: user.user.id,
    role: user.user.role,
    actor: { kind: "user", userId: user.user.id },
    clientKey: `user:${user.user.id}`,
  });
  return queued.id;
}

export function identificationRow(app: TestApp, id: string) {
  return app.deps.db.primary.selectFrom("identifications").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export function notificationsOf(app: TestApp, userId: string, key?: string) {
  let query = app.deps.db.primary.selectFrom("notifications").selectAll().where("user_id", "=", userId);
  if (key) query = query.where("dedupe_key", "=", key);
  return query.execute();
}

/** Dead letters whose payload has `field` = `value` (tests share the database: never look at all of them). */
export function failedJobsWhere(app: TestApp, field: string, value: string) {
  return app.deps.db.primary
    .selectFrom("failed_jobs")
    .selectAll()
    .where(sql<string>`envelope -> 'payload' ->> ${field}`, "=", value)
    .execute();
}
