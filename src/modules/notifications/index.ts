import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { notificationsHandlers } from "./notifications.handlers.ts";
import { listNotificationsRoute, readNotificationRoute } from "./notifications.routes.ts";

export function notificationsRouter(services: Services) {
  const h = notificationsHandlers(services.notifications);
  return createRouter().openapi(listNotificationsRoute, h.list).openapi(readNotificationRoute, h.read);
}
