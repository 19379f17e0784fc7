import { z } from "@hono/zod-openapi";
import { ActionLinkSchema, LinkSchema } from "../../http/links.ts";
import { PageLinksSchema, pageQuery, queryBoolean } from "../../http/openapi.ts";

const uuid = z.string().uuid();

const notificationFields = {
  id: uuid.openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  title: z.string().openapi({ example: "Your identification is ready" }),
  body: z.string().openapi({ example: "Best match: Monstera deliciosa." }),
  readAt: z.string().datetime({ offset: true }).nullable(),
  createdAt: z.string().datetime({ offset: true }),
  links: z
    .object({
      identification: LinkSchema.optional().openapi({ description: "The identification it is about." }),
      batch: LinkSchema.optional().openapi({ description: "The batch it is about." }),
      export: LinkSchema.optional().openapi({ description: "The account export it is about." }),
      read: ActionLinkSchema.optional().openapi({ description: "Mark it read (absent once it is read)." }),
    })
    .openapi("NotificationLinks"),
};

/** One schema per kind, so a generated client gets typed `data` after checking `kind`. */
const kinds = {
  "identification.completed": z
    .object({ identificationId: uuid, speciesId: uuid.nullable() })
    .openapi("IdentificationCompletedData"),
  "identification.failed": z.object({ identificationId: uuid }).openapi("IdentificationFailedData"),
  "batch.completed": z
    .object({ batchId: uuid, completed: z.number().int().min(0), total: z.number().int().min(1) })
    .openapi("BatchCompletedData"),
  "batch.failed": z.object({ batchId: uuid }).openapi("BatchFailedData"),
  "export.ready": z
    .object({
      exportId: uuid,
      downloadUrl: z.string().url().openapi({
        description: "Signed, valid until `expiresAt`; needs your credentials too (`GET` it signed in).",
      }),
      expiresAt: z.string().datetime({ offset: true }),
    })
    .openapi("ExportReadyData"),
} as const;

export type NotificationKind = keyof typeof kinds;
export const NOTIFICATION_KINDS = Object.keys(kinds) as NotificationKind[];

const variant = <K extends NotificationKind>(kind: K, name: string) =>
  z.object({ ...notificationFields, kind: z.literal(kind), data: kinds[kind] }).openapi(name);

export const NotificationSchema = z
  .discriminatedUnion("kind", [
    variant("identification.completed", "IdentificationCompletedNotification"),
    variant("identification.failed", "IdentificationFailedNotification"),
    variant("batch.completed", "BatchCompletedNotification"),
    variant("batch.failed", "BatchFailedNotification"),
    variant("export.ready", "ExportReadyNotification"),
  ])
  .openapi("Notification", {
    description:
      "Discriminated by `kind`; `data` names what the notification is about. New kinds may be added: a client " +
      "skips a notification whose `kind` it does not know.",
  });

export const NotificationPageSchema = z
  .object({ data: z.array(NotificationSchema), nextCursor: z.string().nullable(), links: PageLinksSchema })
  .openapi("NotificationPage");

export const NotificationQuerySchema = pageQuery().extend({
  unread: queryBoolean().openapi({
    param: { name: "unread", in: "query" },
    example: true,
    description: "`true`: only notifications not read yet.",
  }),
});

export type Notification = z.infer<typeof NotificationSchema>;
export type NotificationPage = z.infer<typeof NotificationPageSchema>;
export type NotificationQuery = z.infer<typeof NotificationQuerySchema>;
