import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import type { listNotificationsRoute, readNotificationRoute } from "./notifications.routes.ts";
import type { NotificationsService, Reader } from "./notifications.service.ts";

const readerOf = (c: Context<AppEnv>): Reader => ({ userId: authOf(c).userId, clientKey: c.var.clientKey });

export function notificationsHandlers(service: NotificationsService) {
  const list: RouteHandler<typeof listNotificationsRoute, AppEnv> = async (c) => {
    const page = await service.list(readerOf(c), c.req.valid("query"), new URL(c.req.url));
    c.header("Cache-Control", "private, no-store");
    return c.json(page, 200);
  };

  const read: RouteHandler<typeof readNotificationRoute, AppEnv> = async (c) => {
    return c.json(await service.markRead(readerOf(c), c.req.valid("param").id), 200);
  };

  return { list, read };
}
