import { z } from "@hono/zod-openapi";
import { LinkSchema } from "../../http/links.ts";
import { PageLinksSchema, pageQuery } from "../../http/openapi.ts";
import { text } from "../../http/text.ts";

export const CareInstructionsSchema = z
  .object({
    watering: text()
      .max(2000)
      .openapi({ example: "Water when the top 5 cm of soil are dry; less in winter." }),
    light: text().max(2000).openapi({ example: "Bright, indirect light; tolerates partial shade." }),
    temperature: text().max(2000).openapi({ example: "18–27 °C; keep above 12 °C." }),
    humidity: text().max(2000).openapi({ example: "Prefers 60% or more; mist or use a pebble tray." }),
    soil: text().max(2000).openapi({ example: "Chunky, well-draining aroid mix." }),
    fertilizing: text()
      .max(2000)
      .openapi({ example: "Balanced liquid fertiliser monthly in spring and summer." }),
    toxicity: text().max(2000).openapi({ example: "Toxic to cats and dogs (insoluble calcium oxalates)." }),
  })
  .openapi("CareInstructions");

export const SpeciesSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    scientificName: z.string().openapi({ example: "Monstera deliciosa" }),
    commonNames: z.array(z.string()).openapi({ example: ["Swiss cheese plant"] }),
    family: z.string().openapi({ example: "Araceae" }),
    genus: z.string().openapi({ example: "Monstera" }),
    category: z.string().openapi({ example: "houseplant" }),
    careInstructions: CareInstructionsSchema,
    createdAt: z.string().datetime({ offset: true }),
    updatedAt: z.string().datetime({ offset: true }),
    links: z
      .object({
        self: LinkSchema,
        collection: LinkSchema.openapi({ description: "The catalogue." }),
        family: LinkSchema.openapi({ description: "The catalogue's species of the same family." }),
        genus: LinkSchema.openapi({ description: "The catalogue's species of the same genus." }),
      })
      .openapi("SpeciesLinks", {
        description:
          "The same for every caller (the catalogue is public and shared caches keep it): no per-caller actions.",
      }),
  })
  .openapi("Species");

export const SpeciesPageSchema = z
  .object({
    data: z.array(SpeciesSchema),
    nextCursor: z.string().nullable().openapi({ example: "eyJzIjoiTW9uc3RlcmEgZGVsaWNpb3NhIn0" }),
    links: PageLinksSchema,
  })
  .openapi("SpeciesPage");

const taxon = text()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z -]*$/, "letters, spaces and hyphens only");

export const SpeciesListQuerySchema = pageQuery().extend({
  q: text({ normalize: "NFC" })
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({
      param: { name: "q", in: "query" },
      example: "fig",
      description: "Case-insensitive substring of the scientific or a common name. `%` and `_` are literal.",
    }),
  family: taxon.optional().openapi({ param: { name: "family", in: "query" }, example: "Araceae" }),
  genus: taxon.optional().openapi({ param: { name: "genus", in: "query" }, example: "Ficus" }),
});

export type Species = z.infer<typeof SpeciesSchema>;
export type SpeciesPage = z.infer<typeof SpeciesPageSchema>;
export type SpeciesListQuery = z.infer<typeof SpeciesListQuerySchema>;

const scientificName = text({ normalize: "NFC" })
  .trim()
  .min(3)
  .max(200)
  .regex(/^[A-Z][a-z]+( [a-z×-]+)*( '[^']+')?$/, "a binomial such as 'Monstera deliciosa'");

const speciesFields = {
  scientificName: scientificName.openapi({ example: "Monstera adansonii" }),
  commonNames: z
    .array(text({ normalize: "NFC" }).trim().min(1).max(100))
    .max(20)
    .openapi({ example: ["Swiss cheese vine"] }),
  family: taxon.openapi({ example: "Araceae" }),
  genus: taxon.openapi({ example: "Monstera" }),
  category: text().trim().min(1).max(50).openapi({ example: "houseplant" }),
  careInstructions: CareInstructionsSchema,
};

export const CreateSpeciesSchema = z
  .object({ ...speciesFields, commonNames: speciesFields.commonNames.default([]) })
  .strict()
  .openapi("CreateSpecies");

export const UpdateSpeciesSchema = z
  .object(speciesFields)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateSpecies", { example: { commonNames: ["Swiss cheese vine", "Adanson's monstera"] } });

export type CreateSpecies = z.infer<typeof CreateSpeciesSchema>;
export type UpdateSpecies = z.infer<typeof UpdateSpeciesSchema>;
