import { z } from "@hono/zod-openapi";
import { PageLinksSchema, pageQuery } from "../../http/openapi.ts";

export const NotificationSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    kind: z.string().openapi({ example: "identification.completed" }),
    title: z.string().openapi({ example: "Your identification is ready" }),
    body: z.string().openapi({ example: "Best match: Monstera deliciosa." }),
    data: z.record(z.string(), z.unknown()).openapi({
      description: "What the notification is about, e.g. `identificationId`, `batchId`.",
      example: { identificationId: "0190f5a2-7b1c-7d3e-8f00-1234567890ac" },
    }),
    readAt: z.string().datetime({ offset: true }).nullable(),
    createdAt: z.string().datetime({ offset: true }),
  })
  .openapi("Notification");

export const NotificationPageSchema = z
  .object({ data: z.array(NotificationSchema), nextCursor: z.string().nullable(), links: PageLinksSchema })
  .openapi("NotificationPage");

export const NotificationQuerySchema = pageQuery().extend({
  unread: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .openapi({
      param: { name: "unread", in: "query" },
      example: "true",
      description: "Only notifications not read yet.",
    }),
});

export type Notification = z.infer<typeof NotificationSchema>;
export type NotificationPage = z.infer<typeof NotificationPageSchema>;
export type NotificationQuery = z.infer<typeof NotificationQuerySchema>;
