import { z } from "zod";

// PlantNet API v2 answers as documented in /work/shared/providers.md. Unknown keys are stripped (tolerant);
// the fields we read are required and typed so a changed format fails loudly as invalid_response.

const TaxonName = z.object({
  scientificNameWithoutAuthor: z.string(),
  scientificName: z.string().nullish(),
});

// GBIF and POWO ids have been seen both as strings and as numbers.
const ExternalRef = z.object({ id: z.union([z.string(), z.number()]).transform(String) }).nullish();

const PlantNetResultWire = z.object({
  score: z.number().min(0).max(1),
  species: z.object({
    scientificNameWithoutAuthor: z.string().min(1),
    scientificNameAuthorship: z.string().nullish(),
    scientificName: z.string().nullish(),
    genus: TaxonName.nullish(),
    family: TaxonName.nullish(),
    commonNames: z.array(z.string()).nullish(),
  }),
  gbif: ExternalRef,
  powo: ExternalRef,
});

export const PlantNetIdentifyWire = z.object({
  bestMatch: z.string(),
  results: z.array(PlantNetResultWire),
  version: z.string(),
  remainingIdentificationRequests: z.number().nullish(),
});
export type PlantNetIdentifyWire = z.infer<typeof PlantNetIdentifyWire>;

export const PlantNetErrorWire = z.object({
  statusCode: z.number(),
  error: z.string().optional(),
  message: z.string().optional(),
});

export function isSpeciesNotFound(status: number, body: unknown): boolean {
  if (status !== 404) return false;
  const parsed = PlantNetErrorWire.safeParse(body);
  return parsed.success && parsed.data.message === "Species not found";
}
