import { z } from "@hono/zod-openapi";
import { PageLinksSchema, pageQuery } from "../../http/openapi.ts";
import { text } from "../../http/text.ts";

export const AuditEntrySchema = z
  .object({
    id: z.string().uuid(),
    actor: z.object({
      type: z.enum(["user", "api_key", "system", "anonymous"]).openapi({ example: "user" }),
      userId: z.string().uuid().nullable(),
      apiKeyId: z.string().uuid().nullable(),
    }),
    action: z.string().openapi({ example: "api_key.create" }),
    entity: z.object({
      type: z.string().openapi({ example: "api_key" }),
      id: z.string().nullable().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    }),
    ip: z.string().nullable().openapi({ example: "203.0.113.7" }),
    requestId: z.string().nullable(),
    changes: z.record(z.string(), z.unknown()).openapi({
      description: "`before` / `after` of the fields that changed; secrets are never recorded.",
      example: { before: { role: "user" }, after: { role: "premium" } },
    }),
    createdAt: z.string().datetime({ offset: true }),
  })
  .openapi("AuditEntry");

export const AuditPageSchema = z
  .object({ data: z.array(AuditEntrySchema), nextCursor: z.string().nullable(), links: PageLinksSchema })
  .openapi("AuditPage");

const q = (name: string, extra: Record<string, unknown> = {}) => ({
  param: { name, in: "query" as const },
  ...extra,
});

export const AuditQuerySchema = pageQuery(50)
  .extend({
    actorId: z
      .string()
      .uuid()
      .optional()
      .openapi(q("actorId", { description: "User who acted (directly or with a key)." })),
    action: text()
      .regex(/^[a-z_]+(\.[a-z_]+)*$/)
      .max(100)
      .optional()
      .openapi(q("action", { example: "user.role_change" })),
    entityType: text()
      .regex(/^[a-z_]+$/)
      .max(50)
      .optional()
      .openapi(q("entityType", { example: "user" })),
    entityId: text().max(100).optional().openapi(q("entityId")),
    from: z
      .string()
      .datetime({ offset: true })
      .optional()
      .openapi(q("from", { description: "Inclusive." })),
    to: z
      .string()
      .datetime({ offset: true })
      .optional()
      .openapi(q("to", { description: "Exclusive." })),
  })
  .refine((v) => !v.from || !v.to || v.from < v.to || new Date(v.from) < new Date(v.to), {
    path: ["to"],
    message: "must be after `from`",
  });

export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type AuditPage = z.infer<typeof AuditPageSchema>;
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
