import { z } from "@hono/zod-openapi";
import { ORGANS } from "../identifications/identifications.schemas.ts";

/** The image types a direct upload may declare (the same as multipart photos, judged again by content). */
export const UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type UploadContentType = (typeof UPLOAD_CONTENT_TYPES)[number];

export const CreateUploadSchema = z
  .object({
    contentType: z.enum(UPLOAD_CONTENT_TYPES),
    contentLength: z.number().int().min(1).openapi({
      description: "Exact size in bytes; at most the per-photo limit (10 MB by default, else 413).",
    }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits")
      .optional()
      .openapi({
        description: "SHA-256 of the bytes (hex): S3 refuses other bytes, and the claim checks it.",
      }),
  })
  .openapi("CreateUpload");
export type CreateUpload = z.infer<typeof CreateUploadSchema>;

export const UploadTicketSchema = z
  .object({
    uploadId: z.string().uuid(),
    url: z.string().openapi({ description: "Send the bytes here, once, before `expiresAt`." }),
    method: z.literal("PUT"),
    headers: z
      .record(z.string(), z.string())
      .openapi({ description: "Send exactly these headers with these values (type, length, checksum)." }),
    expiresAt: z.string().datetime({ offset: true }),
  })
  .openapi("UploadTicket");
export type UploadTicket = z.infer<typeof UploadTicketSchema>;

/** `POST /v1/identifications` (and batches) with JSON: photos sent before, named by their upload ids. */
export const IdentifyFromUploadsSchema = z
  .strictObject({
    uploadIds: z
      .array(z.string().uuid())
      .min(1)
      // The endpoint's own limit (5 photos per identification, 20 per batch, configurable) is checked after.
      .max(100)
      .refine((ids) => new Set(ids).size === ids.length, "each upload once"),
    organs: z.array(z.enum(ORGANS)).max(100).optional(),
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
    includeHealth: z.boolean().default(true),
  })
  .superRefine((v, ctx) => {
    if (v.organs && v.organs.length > 0 && v.organs.length !== v.uploadIds.length) {
      ctx.addIssue({ code: "custom", path: ["organs"], message: "send one organ per upload, or none" });
    }
    if ((v.latitude === undefined) !== (v.longitude === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [v.latitude === undefined ? "latitude" : "longitude"],
        message: "send latitude and longitude together",
      });
    }
  })
  .openapi("IdentifyFromUploads");
/** What services take (any transport): `organs` and `includeHealth` may be left out (auto, true). */
export type IdentifyFromUploads = z.input<typeof IdentifyFromUploadsSchema>;
