import { z } from "@hono/zod-openapi";
import { ActionLinkSchema, LinkSchema } from "../../http/links.ts";
import { text } from "../../http/text.ts";

const preferenceValue = z.union([text().max(500), z.number(), z.boolean()]);
const preferenceKey = text().regex(/^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/);

export const PreferencesSchema = z
  .record(preferenceKey, preferenceValue)
  .refine((p) => Object.keys(p).length <= 50, "at most 50 preferences")
  .openapi("Preferences", {
    description: "Free-form client settings: up to 50 keys, each a string (<= 500 chars), number or boolean.",
    example: { units: "metric", language: "en", "notifications.push": true },
  });

export const UserSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    email: z.string().email().openapi({ example: "ada@example.com" }),
    displayName: z.string().openapi({ example: "Ada" }),
    role: z.enum(["user", "premium", "admin"]).openapi({ example: "user" }),
    emailVerified: z.boolean().openapi({
      description:
        "Whether the address was confirmed from the e-mailed link; unconfirmed accounts identify a few plants only.",
    }),
    preferences: PreferencesSchema,
    createdAt: z.string().datetime({ offset: true }),
    updatedAt: z.string().datetime({ offset: true }),
    links: z
      .object({
        self: LinkSchema,
        identifications: LinkSchema.optional().openapi({ description: "Your identification history." }),
        notifications: LinkSchema.optional().openapi({ description: "Your notifications." }),
        apiKeys: LinkSchema.optional().openapi({ description: "Your API keys." }),
        update: ActionLinkSchema.optional().openapi({ description: "Change the profile (`account:write`)." }),
        export: ActionLinkSchema.optional().openapi({
          description: "Request an archive of your data (`account:read` and `identifications:read`).",
        }),
        delete: ActionLinkSchema.optional().openapi({ description: "Delete the account (`account:write`)." }),
      })
      .openapi("UserLinks", {
        description: "`self` always; the others on answers about the signed-in account (`/v1/me`).",
      }),
  })
  .openapi("User");

export const DisplayNameSchema = text({ normalize: "NFC" }).trim().min(1).max(80).openapi({ example: "Ada" });

export const UpdateMeSchema = z
  .object({
    displayName: DisplayNameSchema.optional(),
    preferences: z
      .record(preferenceKey, preferenceValue.nullable())
      .optional()
      .openapi({ description: "Merged into the stored preferences; a key set to `null` is removed." }),
  })
  .strict()
  .refine(
    (v) => v.displayName !== undefined || v.preferences !== undefined,
    "send displayName or preferences",
  )
  .openapi("UpdateMe", { example: { displayName: "Ada L.", preferences: { units: "imperial" } } });

export type User = z.infer<typeof UserSchema>;
export type UpdateMe = z.infer<typeof UpdateMeSchema>;
