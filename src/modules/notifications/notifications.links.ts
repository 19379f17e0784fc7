import type { Linker } from "../../http/links.ts";
import type { Notification } from "./notifications.schemas.ts";

type Unlinked = Omit<Notification, "links"> & { data: object };

/** What the notification is about, and the read action while it is unread. */
export function presentNotification(n: Unlinked, l: Linker): Notification {
  const data = n.data as { identificationId?: string; batchId?: string; exportId?: string };
  return {
    ...n,
    links: {
      ...(data.identificationId
        ? { identification: l.href(`/v1/identifications/${data.identificationId}`) }
        : {}),
      ...(data.batchId ? { batch: l.href(`/v1/identification-batches/${data.batchId}`) } : {}),
      ...(data.exportId ? { export: l.href(`/v1/me/exports/${data.exportId}`) } : {}),
      ...(n.readAt === null ? { read: l.action(`/v1/notifications/${n.id}/read`, "POST") } : {}),
    },
  } as Notification;
}
