import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { notificationsHandlers } from "./notifications.handlers.ts";
import { listNotificationsRoute, readNotificationRoute } from "./notifications.routes.ts";
import { createNotificationsService } from "./notifications.service.ts";

export function notificationsRouter(deps: Deps) {
  const h = notificationsHandlers(createNotificationsService(deps));
  return createRouter().openapi(listNotificationsRoute, h.list).openapi(readNotificationRoute, h.read);
}
