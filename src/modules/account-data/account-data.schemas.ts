import { z } from "@hono/zod-openapi";
import { LinkSchema } from "../../http/links.ts";
import { text } from "../../http/text.ts";

export const AccountExportSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    status: z.enum(["queued", "ready", "failed", "expired"]).openapi({
      description:
        "queued: being built in the background; ready: download it (`links.download`) until `expiresAt`; " +
        "failed: ask again; expired: the archive was removed, ask again.",
    }),
    createdAt: z.string().datetime({ offset: true }),
    completedAt: z.string().datetime({ offset: true }).nullable(),
    expiresAt: z.string().datetime({ offset: true }).nullable(),
    byteSize: z.number().int().nullable().openapi({ example: 5_242_880 }),
    links: z
      .object({
        self: LinkSchema,
        account: LinkSchema.openapi({ description: "The account (`/v1/me`)." }),
        download: LinkSchema.optional().openapi({
          description:
            "While `ready`: the archive (`.tar.gz`), signed for you until `expiresAt`; send your credentials too.",
        }),
      })
      .openapi("AccountExportLinks"),
  })
  .openapi("AccountExport", {
    description:
      "An archive of your data: `profile.json`, `identifications.json` and the photos under `photos/`.",
  });

export const ArchiveQuerySchema = z.object({
  expires: z.coerce
    .number()
    .int()
    .min(0)
    .openapi({ param: { name: "expires", in: "query" }, type: "integer", example: 1_764_000_000 }),
  signature: text()
    .min(1)
    .max(128)
    .openapi({
      param: { name: "signature", in: "query" },
      example: "q3Jm0Xh2kq9b8Vn6cFf1yqj8uXh2Zr3Jt0c1n2b3d4e",
    }),
});

export type AccountExport = z.infer<typeof AccountExportSchema>;
