import { z } from "zod";

// Plant.id (Kindwise) v3 answers as documented in /work/shared/providers.md.
// Objects strip unknown keys (tolerant to additions); the fields we read are required and typed, so a renamed
// field (e.g. `confidence` instead of `probability`) fails loudly as invalid_response.

const Probability = z.number().min(0).max(1);

const BinaryPrediction = z.object({
  probability: Probability,
  binary: z.boolean(),
  threshold: z.number().optional(),
});

const SimilarImage = z.object({
  id: z.string().optional(),
  url: z.string(),
  url_small: z.string().nullish(),
  similarity: z.number().nullish(),
  license_name: z.string().nullish(),
  license_url: z.string().nullish(),
  citation: z.string().nullish(),
});

const Taxonomy = z.object({
  class: z.string().nullish(),
  genus: z.string().nullish(),
  order: z.string().nullish(),
  family: z.string().nullish(),
  phylum: z.string().nullish(),
  kingdom: z.string().nullish(),
});

const SpeciesDetails = z.object({
  common_names: z.array(z.string()).nullish(),
  taxonomy: Taxonomy.nullish(),
  url: z.string().nullish(),
  synonyms: z.array(z.string()).nullish(),
  language: z.string().nullish(),
  entity_id: z.string().nullish(),
});

const SpeciesSuggestion = z.object({
  id: z.string(),
  name: z.string().min(1),
  probability: Probability,
  similar_images: z.array(SimilarImage).nullish(),
  details: SpeciesDetails.nullish(),
});

const Envelope = {
  access_token: z.string(),
  model_version: z.string(),
  status: z.enum(["CREATED", "SUBMITTED", "COMPLETED", "FAILED"]),
};

export const PlantIdIdentificationWire = z.object({
  ...Envelope,
  result: z.object({
    is_plant: BinaryPrediction,
    classification: z.object({ suggestions: z.array(SpeciesSuggestion) }),
  }),
});
export type PlantIdIdentificationWire = z.infer<typeof PlantIdIdentificationWire>;

// Identification details give description as {value, citation, ...}; health details give a plain string.
const Description = z.union([z.string(), z.object({ value: z.string() }).transform((d) => d.value)]);

const Treatment = z.object({
  biological: z.array(z.string()).nullish(),
  chemical: z.array(z.string()).nullish(),
  prevention: z.array(z.string()).nullish(),
});

const DiseaseSuggestion = z.object({
  id: z.string(),
  name: z.string().min(1),
  probability: Probability,
  details: z
    .object({
      description: Description.nullish(),
      treatment: Treatment.nullish(),
      classification: z.array(z.string()).nullish(),
    })
    .nullish(),
});

export const PlantIdHealthWire = z.object({
  ...Envelope,
  result: z.object({
    is_plant: BinaryPrediction.optional(),
    is_healthy: BinaryPrediction,
    disease: z.object({ suggestions: z.array(DiseaseSuggestion) }),
  }),
});
export type PlantIdHealthWire = z.infer<typeof PlantIdHealthWire>;
