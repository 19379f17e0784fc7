import { type RouteConfig, z } from "@hono/zod-openapi";
import { LinkSchema } from "../../http/links.ts";
import { LinksSchema } from "../../http/openapi.ts";
import { ORGANS } from "../identifications/identifications.schemas.ts";

export const ITEM_STATUSES = ["queued", "processing", "completed", "failed", "deleted"] as const;

/** The service's item (links: paths); the REST presenter (batches.links.ts) makes the answer's links. */
export const BatchItemCoreSchema = z.object({
  position: z
    .number()
    .int()
    .min(0)
    .openapi({ example: 0, description: "The photo's place in the upload, from 0." }),
  identificationId: z.string().uuid(),
  status: z.enum(ITEM_STATUSES).openapi({ example: "completed" }),
  failure: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .openapi({ description: "Why this photo could not be identified (status `failed`)." }),
  links: z.object({
    identification: z
      .string()
      .openapi({ example: "/v1/identifications/0190f5a2-7b1c-7d3e-8f00-1234567890ac" }),
  }),
});

export const BatchItemSchema = BatchItemCoreSchema.extend({
  links: z
    .object({
      identification: LinkSchema.openapi({ description: "This photo's identification." }),
      batch: LinkSchema.openapi({ description: "The batch the item belongs to." }),
    })
    .openapi("BatchItemLinks"),
}).openapi("BatchItem");

export const BatchCoreSchema = z.object({
  id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  status: z.enum(["queued", "processing", "completed", "failed"]).openapi({
    description: "completed: every photo was handled (see each item's status); failed: the batch gave up.",
  }),
  total: z.number().int().openapi({ example: 12 }),
  progress: z.object({
    completed: z.number().int().openapi({ example: 7 }),
    failed: z.number().int().openapi({ example: 1 }),
    pending: z.number().int().openapi({ example: 4 }),
    percent: z
      .number()
      .int()
      .min(0)
      .max(100)
      .openapi({ example: 67, description: "Photos handled (any outcome), in percent." }),
  }),
  items: z.array(BatchItemCoreSchema),
  createdAt: z.string().datetime({ offset: true }),
  completedAt: z.string().datetime({ offset: true }).nullable(),
  links: LinksSchema,
});

export const BatchSchema = BatchCoreSchema.extend({
  items: z.array(BatchItemSchema),
  links: z
    .object({
      self: LinkSchema,
      identifications: LinkSchema.openapi({ description: "Your identification history." }),
    })
    .openapi("IdentificationBatchLinks"),
}).openapi("IdentificationBatch");

type BodySchema = Extract<
  NonNullable<NonNullable<RouteConfig["request"]>["body"]>["content"][string],
  { schema?: unknown }
>["schema"];

/** Documentation only: the body is parsed as a stream by the service, never buffered by a validator. */
export const BatchUploadDoc: BodySchema = {
  type: "object",
  required: ["images"],
  properties: {
    images: {
      type: "array",
      minItems: 1,
      maxItems: 20,
      items: { type: "string", format: "binary" },
      description: "1 to 20 photos, each identified on its own: JPEG, PNG or WebP, each at most 10 MB.",
    },
    organs: {
      type: "array",
      items: { type: "string", enum: [...ORGANS] },
      description: "One per image, in the same order (default `auto`).",
    },
    latitude: { type: "number", minimum: -90, maximum: 90, example: 50.08 },
    longitude: { type: "number", minimum: -180, maximum: 180, example: 14.42 },
    includeHealth: { type: "boolean", default: true },
  },
};

export type Batch = z.infer<typeof BatchCoreSchema>;
export type BatchItem = z.infer<typeof BatchItemCoreSchema>;
export type BatchResource = z.infer<typeof BatchSchema>;
