import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { NotificationsTable } from "../../db/schema-background.ts";

export type NotificationRow = Selectable<NotificationsTable>;

export type NewNotification = {
  userId: string;
  key: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
};

/** Inserts once per (user, key): a job delivered twice leaves one notification. True when this call inserted. */
export async function insertNotification(db: Db, n: NewNotification): Promise<boolean> {
  const result = await db
    .insertInto("notifications")
    .values({
      id: Bun.randomUUIDv7(),
      user_id: n.userId,
      dedupe_key: n.key,
      kind: n.kind,
      title: n.title,
      body: n.body,
      data: n.data,
    })
    .onConflict((oc) => oc.columns(["user_id", "dedupe_key"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export type NotificationFilter = {
  limit: number;
  /** UUIDv7 ids grow with creation time: the id alone is a stable, exact cursor (timestamps lose microseconds in JS). */
  afterId?: string;
  unread?: boolean;
};

export async function listNotifications(
  db: Db,
  userId: string,
  f: NotificationFilter,
): Promise<NotificationRow[]> {
  let query = db.selectFrom("notifications").selectAll().where("user_id", "=", userId);
  if (f.unread) query = query.where("read_at", "is", null);
  if (f.afterId) query = query.where("id", "<", f.afterId);
  return query.orderBy("id", "desc").limit(f.limit).execute();
}

/** Marks read (idempotent: the first read time stays). undefined when the user has no such notification. */
export async function markNotificationRead(
  db: Db,
  userId: string,
  id: string,
): Promise<NotificationRow | undefined> {
  return db
    .updateTable("notifications")
    .set({
      read_at: sql`coalesce(read_at, now())`,
      updated_at: sql`case when read_at is null then now() else updated_at end`,
    })
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .returningAll()
    .executeTakeFirst();
}

/** A live user's address and whether they asked for notifications by e-mail (`preferences.emailNotifications`). */
export async function findNotificationRecipient(
  db: Db,
  userId: string,
): Promise<{ email: string; wantsEmail: boolean } | undefined> {
  const row = await db
    .selectFrom("users")
    .select(["email", "preferences"])
    .where("id", "=", userId)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return row && { email: row.email, wantsEmail: row.preferences?.emailNotifications === true };
}
