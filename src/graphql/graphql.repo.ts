import type { Selectable } from "kysely";
import type { Db } from "../db/connect.ts";
import type { NotificationsTable } from "../db/schema-background.ts";
import type { IdentificationRow } from "../modules/identifications/identifications.repo.ts";
import type { UserRow } from "../modules/users/users.repo.ts";

// Batched reads for the GraphQL loaders (one statement per batch, whatever the page size).

export async function findLiveUsersByIds(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("users")
    .selectAll()
    .where("id", "in", [...ids])
    .where("deleted_at", "is", null)
    .execute();
}

/** Unread notifications per user, for the users asked about (absent users have 0). */
export async function countUnreadNotifications(
  db: Db,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("notifications")
    .select(["user_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("user_id", "in", [...userIds])
    .where("read_at", "is", null)
    .groupBy("user_id")
    .execute();
  return new Map(rows.map((r) => [r.user_id, Number(r.n)]));
}

export type NotificationRow = Selectable<NotificationsTable>;

/** The notification a live event names (user and dedupe key: what the worker's insert knows). */
export async function findNotificationByKey(
  db: Db,
  userId: string,
  dedupeKey: string,
): Promise<NotificationRow | undefined> {
  return db
    .selectFrom("notifications")
    .selectAll()
    .where("user_id", "=", userId)
    .where("dedupe_key", "=", dedupeKey)
    .executeTakeFirst();
}

export async function findLiveIdentificationsByIds(
  db: Db,
  userId: string,
  ids: readonly string[],
): Promise<IdentificationRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("identifications")
    .selectAll()
    .where("id", "in", [...ids])
    .where("user_id", "=", userId)
    .where("deleted_at", "is", null)
    .execute();
}
