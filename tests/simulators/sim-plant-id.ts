import { z } from "zod";
import {
  type CatalogueSpecies,
  hexId,
  inspectImage,
  nameId,
  pickSpecies,
  pickUnlikelySpecies,
  type ScoredSpecies,
  sha256Hex,
} from "./sim-catalogue.ts";
import { PLANT_ID_DEFAULT_VERSION, plantIdVersionOf, versionedHash } from "./sim-models.ts";
import { plantIdDiseases } from "./sim-plant-id-health.ts";

export type PlantIdEndpoint = "identification" | "health_assessment";

export interface PlantIdSimContext {
  catalogue: CatalogueSpecies[];
  apiKey: string;
  notAPlant: boolean;
}

const Base64Image = z
  .string()
  .transform((s) => s.replace(/^data:image\/[a-z]+;base64,/, ""))
  .refine((s) => s.length > 0 && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s), "not valid base64");

// Strict on purpose: a misspelled field (`image`, `lat`) from our client must fail loudly here.
const RequestBody = z.strictObject({
  images: z.array(Base64Image).min(1).max(5),
  latitude: z.number().min(-90).max(90).nullish(),
  longitude: z.number().min(-180).max(180).nullish(),
  similar_images: z.boolean().optional(),
  datetime: z.string().optional(),
  health: z.enum(["only", "auto", "all"]).optional(),
  custom_id: z.number().int().optional(),
  classification_level: z.enum(["species", "all", "genus"]).optional(),
});

export const plantIdError = (status: number, error: string) => Response.json({ error }, { status });

export async function answerPlantId(req: Request, endpoint: PlantIdEndpoint, ctx: PlantIdSimContext) {
  if (req.headers.get("api-key") !== ctx.apiKey) return plantIdError(401, "Invalid api key");

  const json = await req.json().catch(() => undefined);
  if (json === undefined) return plantIdError(400, "Request body is not valid JSON");
  const parsed = RequestBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return plantIdError(400, `Invalid request: ${issue?.path.join(".") || "body"}: ${issue?.message}`);
  }
  const body = parsed.data;
  const images = body.images.map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
  const inspected = await Promise.all(images.map(inspectImage));
  if (inspected.some((i) => i === null)) return plantIdError(400, "Invalid image data");

  const modelVersion = plantIdVersionOf(req, body.classification_level);
  const hash = versionedHash(sha256Hex(images), modelVersion, PLANT_ID_DEFAULT_VERSION);
  const notAPlant = ctx.notAPlant || inspected.some((i) => i?.looksLikeNotAPlant);
  const details = new Set((new URL(req.url).searchParams.get("details") ?? "").split(",").filter(Boolean));
  const createdAt = Date.now() / 1000;
  const isPlant = notAPlant
    ? { probability: 0.0213, binary: false, threshold: 0.5 }
    : { probability: 0.9871, binary: true, threshold: 0.5 };

  const result =
    endpoint === "identification"
      ? {
          is_plant: isPlant,
          classification: {
            suggestions: (notAPlant
              ? pickUnlikelySpecies(ctx.catalogue, hash)
              : pickSpecies(ctx.catalogue, hash).plantId
            ).map((s) => speciesSuggestion(s, details, body.similar_images === true)),
          },
        }
      : { is_plant: isPlant, ...plantIdDiseases(hash, details) };

  return Response.json(
    {
      access_token: hash.slice(0, 15),
      model_version: modelVersion,
      custom_id: body.custom_id ?? null,
      input: {
        latitude: body.latitude ?? null,
        longitude: body.longitude ?? null,
        similar_images: body.similar_images ?? false,
        images: images.map((_, i) => `https://plant.id/media/imgs/${hash.slice(0, 32)}-${i}.jpg`),
        datetime: body.datetime ?? new Date(createdAt * 1000).toISOString(),
      },
      result,
      status: "COMPLETED",
      sla_compliant_client: true,
      sla_compliant_system: true,
      created: createdAt,
      completed: Date.now() / 1000,
    },
    { status: 201 },
  );
}

function speciesSuggestion(
  { species, score }: ScoredSpecies,
  details: Set<string>,
  withSimilarImages: boolean,
) {
  const slug = species.scientificName.replace(/\s+/g, "_");
  const id = hexId(species.scientificName);
  const all: Record<string, unknown> = {
    common_names: species.commonNames,
    taxonomy: {
      class: "Magnoliopsida",
      genus: species.genus,
      order: "Unknown",
      family: species.family,
      phylum: "Tracheophyta",
      kingdom: "Plantae",
    },
    url: `https://en.wikipedia.org/wiki/${slug}`,
    description: {
      value: `${species.scientificName} is a species of the family ${species.family}.`,
      citation: `https://en.wikipedia.org/wiki/${slug}`,
      license_name: "CC BY-SA 3.0",
      license_url: "https://creativecommons.org/licenses/by-sa/3.0/",
    },
    synonyms: [],
    image: { value: `https://plant-id.ams3.cdn.digitaloceanspaces.com/knowledge_base/${id}.jpg` },
    edible_parts: null,
    watering: { min: 1, max: 2 },
    propagation_methods: ["seeds", "cuttings"],
  };
  const requested = Object.fromEntries(Object.entries(all).filter(([key]) => details.has(key)));
  return {
    id,
    name: species.scientificName,
    probability: score,
    ...(withSimilarImages ? { similar_images: similarImages(id) } : {}),
    details: { ...requested, language: "en", entity_id: nameId(species.scientificName, 10) },
  };
}

function similarImages(id: string) {
  return [1, 2].map((i) => ({
    id: `${id}${i}`,
    url: `https://plant-id.ams3.cdn.digitaloceanspaces.com/similar_images/3/${id}${i}.jpg`,
    url_small: `https://plant-id.ams3.cdn.digitaloceanspaces.com/similar_images/3/${id}${i}.small.jpg`,
    similarity: i === 1 ? 0.812 : 0.734,
    license_name: "CC BY 4.0",
    license_url: "https://creativecommons.org/licenses/by/4.0/",
    citation: "Simulated Contributor",
  }));
}
