/** Shortcuts for tests of background work: submit async identifications, read their rows and notifications. */
import { sql } from "kysely";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import type { TestApp } from "./app.ts";
import type { TestUser } from "./auth.ts";
import { uploadForm } from "./identify.ts";

/** POST /v1/identifications with `Prefer: respond-async`; returns the queued identification's id. */
export async function submitAsync(app: TestApp, user: TestUser, images: Uint8Array[]): Promise<string> {
  const res = await app.request("/v1/identifications", {
    method: "POST",
    headers: { ...user.headers, prefer: "respond-async" },
    body: uploadForm(images),
  });
  if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${await res.text()}`);
  return IdentificationSchema.parse(await res.json()).id;
}

export function identificationRow(app: TestApp, id: string) {
  return app.deps.db.primary
    .selectFrom("identifications")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
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
