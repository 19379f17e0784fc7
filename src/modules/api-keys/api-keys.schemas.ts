import { z } from "@hono/zod-openapi";
import { ActionLinkSchema, LinkSchema } from "../../http/links.ts";
import { PageLinksSchema, pageQuery } from "../../http/openapi.ts";
import { SCOPES } from "../../http/scopes.ts";
import { text } from "../../http/text.ts";

const ScopeSchema = z.enum(SCOPES).openapi({ example: "identifications:write" });

export const CreateApiKeySchema = z
  .object({
    name: text({ normalize: "NFC" }).trim().min(1).max(100).openapi({ example: "Garden-centre kiosk" }),
    scopes: z
      .array(ScopeSchema)
      .min(1)
      .max(SCOPES.length)
      .refine((s) => new Set(s).size === s.length, "scopes must not repeat")
      .openapi({ example: ["species:read", "identifications:write"] }),
    expiresAt: z.string().datetime({ offset: true }).optional().openapi({
      example: "2027-06-30T00:00:00Z",
      description: "Optional; the key stops working at this time.",
    }),
  })
  .strict()
  .openapi("CreateApiKey");

/** The service's key (no links); the REST answer adds them (api-keys.links.ts). */
export const ApiKeyCoreSchema = z.object({
  id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  name: z.string().openapi({ example: "Garden-centre kiosk" }),
  prefix: z.string().openapi({
    example: "pc_live_Xk3vQ9aB",
    description: "The key's first characters, to tell keys apart.",
  }),
  scopes: z.array(ScopeSchema),
  expiresAt: z.string().datetime({ offset: true }).nullable(),
  lastUsedAt: z.string().datetime({ offset: true }).nullable(),
  createdAt: z.string().datetime({ offset: true }),
});

export const ApiKeySchema = ApiKeyCoreSchema.extend({
  links: z
    .object({
      self: LinkSchema.openapi({ description: "This key." }),
      collection: LinkSchema.openapi({ description: "Your API keys." }),
      revoke: ActionLinkSchema.optional().openapi({ description: "Revoke it (`account:write`)." }),
    })
    .openapi("ApiKeyLinks"),
}).openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({
    example: "pc_live_Xk3vQ9aBexampleexampleexampleexampleexam",
    description: "The secret, shown this once. Send it as `X-API-Key`.",
  }),
}).openapi("CreatedApiKey");

export const ApiKeyPageSchema = z
  .object({ data: z.array(ApiKeySchema), nextCursor: z.string().nullable(), links: PageLinksSchema })
  .openapi("ApiKeyPage");

export const ApiKeyListQuerySchema = pageQuery();

export type CreateApiKey = z.infer<typeof CreateApiKeySchema>;
export type ApiKey = z.infer<typeof ApiKeyCoreSchema>;
export type CreatedApiKey = ApiKey & { key: string };
export type ApiKeyPage = Omit<z.infer<typeof ApiKeyPageSchema>, "data"> & { data: ApiKey[] };
export type ApiKeyResource = z.infer<typeof ApiKeySchema>;
export type ApiKeyListQuery = z.infer<typeof ApiKeyListQuerySchema>;
