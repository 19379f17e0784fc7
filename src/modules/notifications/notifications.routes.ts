import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import {
  NotificationPageSchema,
  NotificationQuerySchema,
  NotificationSchema,
} from "./notifications.schemas.ts";

const tags = ["Notifications"];

export const listNotificationsRoute = createRoute({
  method: "get",
  path: "/notifications",
  operationId: "listNotifications",
  tags,
  summary: "Your in-app notifications, newest first",
  description:
    "E.g. when a background identification or a batch is done. Follow `links.next` for older ones.",
  ...protect("notifications:read"),
  request: { query: NotificationQuerySchema },
  responses: {
    200: {
      description: "A page of notifications.",
      content: { "application/json": { schema: NotificationPageSchema } },
    },
    ...errorResponses(400, 401, 403),
  },
});

export const readNotificationRoute = createRoute({
  method: "post",
  path: "/notifications/{id}/read",
  operationId: "markNotificationRead",
  tags,
  summary: "Mark one of your notifications as read",
  description: "Idempotent: reading it again keeps the first `readAt`.",
  ...protect("notifications:read"),
  request: { params: UuidParamSchema },
  responses: {
    200: {
      description: "The notification, read.",
      content: { "application/json": { schema: NotificationSchema } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});
