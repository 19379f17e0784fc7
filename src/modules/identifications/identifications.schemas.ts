import { type RouteConfig, z } from "@hono/zod-openapi";
import { ActionLinkSchema, LinkSchema } from "../../http/links.ts";
import { LinksSchema, PageLinksSchema, pageQuery, queryNumber } from "../../http/openapi.ts";
import { text } from "../../http/text.ts";

export const ORGANS = ["leaf", "flower", "fruit", "bark", "auto"] as const;
export type Organ = (typeof ORGANS)[number];

const probability = z.number().min(0).max(1);
const uuid = z.string().uuid();

export const IdentificationImageSchema = z
  .object({
    url: z.string().url().openapi({
      example:
        "https://media.plant.community/identifications/0190f5a2-7b1c-7d3e-8f00-1234567890ab/0190f5a2-7b1c-7d3e-8f00-1234567890ac.jpg",
    }),
    thumbnailUrl: z.string().url().openapi({
      example:
        "https://media.plant.community/identifications/0190f5a2-7b1c-7d3e-8f00-1234567890ab/0190f5a2-7b1c-7d3e-8f00-1234567890ac.thumb.jpg",
    }),
    width: z.number().int().openapi({ example: 1536 }),
    height: z.number().int().openapi({ example: 2048 }),
  })
  .openapi("IdentificationImage", {
    description: "A stored copy (JPEG, metadata stripped, longest side ≤ 2048 px) and its thumbnail.",
  });

export const SimilarImageSchema = z
  .object({
    url: z.string(),
    urlSmall: z.string().optional(),
    similarity: probability.optional(),
    license: z.string().optional(),
    citation: z.string().optional(),
  })
  .openapi("SimilarImage");

export const SuggestionCoreSchema = z.object({
  rank: z.number().int().min(1).openapi({ example: 1 }),
  scientificName: z.string().openapi({ example: "Monstera deliciosa" }),
  commonNames: z.array(z.string()).openapi({ example: ["Swiss cheese plant"] }),
  probability: probability.openapi({
    example: 0.912,
    description: "0 to 1: Plant.id's probability, else PlantNet's score.",
  }),
  family: z.string().nullable().openapi({ example: "Araceae" }),
  genus: z.string().nullable().openapi({ example: "Monstera" }),
  sources: z.array(z.enum(["plant_id", "plantnet"])).openapi({ example: ["plant_id", "plantnet"] }),
  speciesId: uuid.optional().openapi({
    example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab",
    description:
      "Our catalogue's species with this scientific name (see `GET /v1/species/{id}`), when there is one.",
  }),
  similarImages: z.array(SimilarImageSchema),
});

export const SuggestionSchema = SuggestionCoreSchema.extend({
  links: z
    .object({
      species: LinkSchema.optional().openapi({
        description: "The catalogue species (`GET /v1/species/{id}`), when the suggestion matches one.",
      }),
    })
    .openapi("SuggestionLinks"),
}).openapi("Suggestion");

export const DiseaseSchema = z
  .object({
    name: z.string().openapi({ example: "Fungi" }),
    probability: probability.openapi({ example: 0.41 }),
    description: z.string().nullable(),
    treatment: z.object({
      biological: z.array(z.string()),
      chemical: z.array(z.string()),
      prevention: z.array(z.string()),
    }),
  })
  .openapi("Disease");

export const HealthSchema = z
  .object({
    isHealthy: z.boolean().openapi({ example: false }),
    probability: probability.openapi({
      example: 0.23,
      description: "Probability that the plant is healthy.",
    }),
    diseases: z.array(DiseaseSchema),
  })
  .openapi("HealthAssessment");

export const PROVIDER_STATUSES = ["ok", "no_match", "failed", "skipped", "circuit_open", "pending"] as const;

export const ProviderReportSchema = z
  .object({
    status: z.enum(PROVIDER_STATUSES).openapi({
      description:
        "ok: answered with suggestions; no_match: answered that it knows no species for the photo; failed: error or " +
        "timeout; skipped: not configured or its call budget is spent; circuit_open: recently failing, not called; " +
        "pending: not asked yet (a background identification that is not completed).",
    }),
    cached: z.boolean().openapi({ description: "The answer came from the 24 h cache of provider answers." }),
    reason: z
      .enum(["not_configured", "not_selected", "quota_exhausted", "error", "timeout"])
      .optional()
      .openapi({
        description: "not_selected: the identification's experiment variant does not use this provider.",
      }),
  })
  .openapi("ProviderReport");

/** What the service layer returns (transport-free); the REST presenter adds `links` (identifications.links.ts). */
export const IdentificationCoreSchema = z.object({
  id: uuid.openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  status: z.enum(["queued", "processing", "completed", "failed"]).openapi({
    description:
      "`completed` when answered at once. With `Prefer: respond-async` the identification runs in the " +
      "background: `queued` -> `processing` -> `completed` or `failed` (see `failure`).",
  }),
  createdAt: z.string().datetime({ offset: true }),
  images: z.array(IdentificationImageSchema),
  isPlant: z.boolean().nullable().openapi({ description: "null when no provider could tell." }),
  confidence: probability
    .nullable()
    .openapi({ example: 0.912, description: "The top suggestion's probability." }),
  suggestions: z.array(SuggestionCoreSchema).openapi({ description: "Best first, at most 10." }),
  health: HealthSchema.optional().openapi({
    description: "Present when `includeHealth` was true and the assessment succeeded.",
  }),
  providers: z.object({
    plantId: ProviderReportSchema,
    plantnet: ProviderReportSchema,
    plantIdHealth: ProviderReportSchema.optional(),
  }),
  failure: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .openapi({
      description: "Why a background identification failed (status `failed`).",
      example: { code: "providers_unavailable", message: "Neither identification provider was available." },
    }),
  modelVersion: z.string().nullable().openapi({ example: "plant_id:3.6.0" }),
  links: LinksSchema,
});

export const IdentificationLinksSchema = z
  .object({
    self: LinkSchema,
    collection: LinkSchema.openapi({ description: "Your identification history." }),
    images: z.array(LinkSchema).openapi({ description: "The stored photos, in upload order." }),
    thumbnails: z.array(LinkSchema).openapi({ description: "Their thumbnails, in the same order." }),
    species: LinkSchema.optional().openapi({
      description: "The top suggestion's catalogue species, when it matches one.",
    }),
    delete: ActionLinkSchema.optional().openapi({
      description: "Present when the credentials may delete it (`identifications:write`).",
    }),
  })
  .openapi("IdentificationLinks");

export const IdentificationSchema = IdentificationCoreSchema.extend({
  suggestions: z.array(SuggestionSchema).openapi({ description: "Best first, at most 10." }),
  links: IdentificationLinksSchema,
}).openapi("Identification");

export const IdentificationPageSchema = z
  .object({
    data: z.array(IdentificationSchema),
    nextCursor: z.string().nullable(),
    links: PageLinksSchema,
  })
  .openapi("IdentificationPage");

export const IdentificationListQuerySchema = pageQuery().extend({
  from: z
    .string()
    .datetime({ offset: true })
    .optional()
    .openapi({
      param: { name: "from", in: "query" },
      example: "2026-11-01T00:00:00Z",
      description: "Created at or after.",
    }),
  to: z
    .string()
    .datetime({ offset: true })
    .optional()
    .openapi({
      param: { name: "to", in: "query" },
      example: "2026-12-01T00:00:00Z",
      description: "Created before.",
    }),
  minConfidence: queryNumber(0, 1)
    .optional()
    .openapi({
      param: { name: "minConfidence", in: "query" },
      example: 0.5,
      description: "Top suggestion at least this probable.",
    }),
  speciesId: uuid.optional().openapi({
    param: { name: "speciesId", in: "query" },
    description: "Only identifications whose top suggestion is this catalogue species.",
  }),
});

export const IdempotencyHeaderSchema = z.object({
  prefer: text()
    .max(200)
    .optional()
    .openapi({
      param: { name: "prefer", in: "header" },
      example: "respond-async",
      description:
        "`respond-async` (RFC 7240): answer 202 at once and identify in the background; poll `Location`, and a " +
        "notification says when it is done.",
    }),
  "idempotency-key": text()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      example: "3f1c9e4e-5b7a-4d2b-9a61-0c8f2b1d7e55",
      description:
        "Retrying with the same key and the same request answers the stored response (no new identification); " +
        "the same key with a different request is refused (422). Keys expire after 24 hours.",
    }),
});

type BodySchema = Extract<
  NonNullable<NonNullable<RouteConfig["request"]>["body"]>["content"][string],
  { schema?: unknown }
>["schema"];

/** Documentation only: the body is parsed as a stream by the service, never buffered by a validator. */
export const IdentificationUploadDoc: BodySchema = {
  type: "object",
  required: ["images"],
  // JSON Schema 2020-12 (OpenAPI 3.1): a position is both coordinates or neither.
  dependentRequired: { latitude: ["longitude"], longitude: ["latitude"] },
  properties: {
    images: {
      type: "array",
      minItems: 1,
      maxItems: 5,
      items: { type: "string", format: "binary" },
      description:
        "1 to 5 photos of the same plant: JPEG, PNG or WebP, each at most 10 MB, 100 px to 50 megapixels.",
    },
    organs: {
      type: "array",
      maxItems: 5,
      items: { type: "string", enum: [...ORGANS] },
      description:
        "None, or exactly one per image in the same order (default `auto`); other counts are a 400.",
    },
    latitude: { type: "number", minimum: -90, maximum: 90, example: 50.08 },
    longitude: { type: "number", minimum: -180, maximum: 180, example: 14.42 },
    includeHealth: {
      type: "boolean",
      default: true,
      description: "Also assess the plant's health (Plant.id).",
    },
  },
};

/** The service layer's identification (links: only `self`, a path). */
export type Identification = z.infer<typeof IdentificationCoreSchema>;
/** The REST answer, with links. */
export type IdentificationResource = z.infer<typeof IdentificationSchema>;
export type IdentificationPage = Omit<z.infer<typeof IdentificationPageSchema>, "data"> & {
  data: Identification[];
};
export type IdentificationResourcePage = z.infer<typeof IdentificationPageSchema>;
export type IdentificationListQuery = z.infer<typeof IdentificationListQuerySchema>;
export type Suggestion = z.infer<typeof SuggestionCoreSchema>;
export type ProviderReport = z.infer<typeof ProviderReportSchema>;
export type Health = z.infer<typeof HealthSchema>;
