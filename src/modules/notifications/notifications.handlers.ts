import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { withPageLinks } from "../../http/pagination.ts";
import { authOf } from "../../http/security.ts";
import { presentNotification } from "./notifications.links.ts";
import type { listNotificationsRoute, readNotificationRoute } from "./notifications.routes.ts";
import type { NotificationsService, Reader } from "./notifications.service.ts";

const readerOf = (c: Context<AppEnv>): Reader => ({ userId: authOf(c).userId, clientKey: c.var.clientKey });

export function notificationsHandlers(service: NotificationsService) {
  const list: RouteHandler<typeof listNotificationsRoute, AppEnv> = async (c) => {
    const page = withPageLinks(c, await service.list(readerOf(c), c.req.valid("query")));
    c.header("Cache-Control", "private, no-store");
    const l = linkerFor(c);
    return c.json({ ...page, data: page.data.map((n) => presentNotification(n, l)) }, 200);
  };

  const read: RouteHandler<typeof readNotificationRoute, AppEnv> = async (c) => {
    const read = await service.markRead(readerOf(c), c.req.valid("param").id);
    return c.json(presentNotification(read, linkerFor(c)), 200);
  };

  return { list, read };
}
