import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import { listNotifications, markNotificationRead, type NotificationRow } from "./notifications.repo.ts";
import type { Notification, NotificationPage, NotificationQuery } from "./notifications.schemas.ts";

const CursorSchema = z.object({ i: z.string().uuid() });

/** Rows are written by our own workers with one `data` shape per kind (see NotificationSchema). */
function toDto(row: NotificationRow): Notification {
  const data =
    row.kind === "identification.completed" ? { speciesId: null, ...row.data } : (row.data as object);
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    data,
    readAt: row.read_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  } as Notification;
}

export type Reader = { userId: string; clientKey: string };

export function createNotificationsService(deps: Pick<Deps, "db">) {
  return {
    async list(reader: Reader, query: NotificationQuery): Promise<Unlinked<NotificationPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      const rows = await deps.db.read(reader.clientKey, (db) =>
        listNotifications(db, reader.userId, {
          limit: query.limit + 1,
          afterId: after?.i,
          unread: query.unread,
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor({ i: last.id }) : null;
      return { data: page.map(toDto), nextCursor };
    },

    async markRead(reader: Reader, id: string): Promise<Notification> {
      const row = await markNotificationRead(deps.db.primary, reader.userId, id);
      if (!row) throw new AppError("not_found", "No notification with this id.");
      await deps.db.markWrite(reader.clientKey);
      return toDto(row);
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
