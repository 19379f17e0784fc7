import { PlantIdHealthWire, PlantIdIdentificationWire } from "./plant-id.wire.ts";
import { ProviderError, type ProviderName } from "./provider-error.ts";
import {
  type FetchLike,
  httpStatusError,
  parseWireBody,
  readJsonBody,
  sendProviderRequest,
} from "./provider-fetch.ts";

export interface PlantIdInput {
  /** Raw image bytes; the client base64-encodes them. */
  images: Uint8Array[];
  latitude?: number;
  longitude?: number;
  /**
   * Plant.id v3's `classification_level` body field (species, all = with infraspecific taxa, genus); left
   * out, the provider's default applies. *(Field name from Kindwise's v3 docs; the simulator checks it.)*
   */
  classificationLevel?: "species" | "all" | "genus";
}

export interface BinaryPrediction {
  probability: number;
  binary: boolean;
}

export interface SimilarImage {
  url: string;
  urlSmall?: string;
  similarity?: number;
  license?: string;
  citation?: string;
}

export interface PlantIdSuggestion {
  scientificName: string;
  probability: number;
  commonNames: string[];
  family?: string;
  genus?: string;
  similarImages: SimilarImage[];
  /** Kindwise's stable species id (details.entity_id), else the per-answer suggestion id. */
  externalId: string;
}

export interface PlantIdIdentification {
  modelVersion: string;
  isPlant: BinaryPrediction;
  suggestions: PlantIdSuggestion[];
}

export interface PlantIdDisease {
  name: string;
  probability: number;
  description?: string;
  treatment: { biological: string[]; chemical: string[]; prevention: string[] };
}

export interface PlantIdHealth {
  isHealthy: BinaryPrediction;
  diseases: PlantIdDisease[];
}

export interface PlantIdClient {
  identify(input: PlantIdInput, signal: AbortSignal): Promise<PlantIdIdentification>;
  assessHealth(input: PlantIdInput, signal: AbortSignal): Promise<PlantIdHealth>;
}

export const PLANT_ID_IDENTIFICATION_DETAILS =
  "common_names,taxonomy,url,description,synonyms,image,edible_parts,watering,propagation_methods";
export const PLANT_ID_HEALTH_DETAILS = "description,treatment,classification";

export function createPlantIdClient(options: {
  baseUrl: string;
  apiKey: string;
  fetch?: FetchLike;
}): PlantIdClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? fetch;

  async function postJson(provider: ProviderName, path: string, body: object, signal: AbortSignal) {
    const res = await sendProviderRequest(
      provider,
      fetchFn,
      `${baseUrl}${path}`,
      {
        method: "POST",
        headers: {
          "Api-Key": options.apiKey,
          "Content-Type": "application/json",
          Accept: "application/json",
        },
        body: JSON.stringify(body),
      },
      signal,
    );
    if (res.status !== 200 && res.status !== 201) throw await httpStatusError(provider, res);
    return { status: res.status, body: await readJsonBody(provider, res, signal) };
  }

  return {
    async identify(input, signal) {
      const path = `/identification?details=${PLANT_ID_IDENTIFICATION_DETAILS}`;
      const res = await postJson("plant-id", path, { ...toRequestBody(input), similar_images: true }, signal);
      const wire = parseWireBody("plant-id", PlantIdIdentificationWire, res.body, res.status);
      assertCompleted("plant-id", wire.status, res.status);
      return toIdentification(wire);
    },

    async assessHealth(input, signal) {
      const path = `/health_assessment?details=${PLANT_ID_HEALTH_DETAILS}`;
      const res = await postJson("plant-id-health", path, toRequestBody(input), signal);
      const wire = parseWireBody("plant-id-health", PlantIdHealthWire, res.body, res.status);
      assertCompleted("plant-id-health", wire.status, res.status);
      return toHealth(wire);
    },
  };
}

function toRequestBody(input: PlantIdInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    images: input.images.map((bytes) => Buffer.from(bytes).toString("base64")),
  };
  if (input.latitude !== undefined) body.latitude = input.latitude;
  if (input.longitude !== undefined) body.longitude = input.longitude;
  if (input.classificationLevel !== undefined) body.classification_level = input.classificationLevel;
  return body;
}

// A synchronous call should come back COMPLETED; anything else carries no usable result.
function assertCompleted(provider: ProviderName, status: string, httpStatus: number): void {
  if (status !== "COMPLETED") {
    throw new ProviderError(provider, "invalid_response", `identification status is ${status}`, {
      status: httpStatus,
    });
  }
}

function toIdentification(wire: PlantIdIdentificationWire): PlantIdIdentification {
  const { is_plant, classification } = wire.result;
  return {
    modelVersion: wire.model_version,
    isPlant: { probability: is_plant.probability, binary: is_plant.binary },
    suggestions: classification.suggestions.map((s) => ({
      scientificName: s.name,
      probability: s.probability,
      commonNames: s.details?.common_names ?? [],
      ...optional("family", s.details?.taxonomy?.family),
      ...optional("genus", s.details?.taxonomy?.genus),
      similarImages: (s.similar_images ?? []).map((img) => ({
        url: img.url,
        ...optional("urlSmall", img.url_small),
        ...optional("similarity", img.similarity),
        ...optional("license", img.license_name),
        ...optional("citation", img.citation),
      })),
      externalId: s.details?.entity_id ?? s.id,
    })),
  };
}

function toHealth(wire: PlantIdHealthWire): PlantIdHealth {
  const { is_healthy, disease } = wire.result;
  return {
    isHealthy: { probability: is_healthy.probability, binary: is_healthy.binary },
    diseases: disease.suggestions.map((d) => ({
      name: d.name,
      probability: d.probability,
      ...optional("description", d.details?.description),
      treatment: {
        biological: d.details?.treatment?.biological ?? [],
        chemical: d.details?.treatment?.chemical ?? [],
        prevention: d.details?.treatment?.prevention ?? [],
      },
    })),
  };
}

/** Leaves a key out instead of writing `undefined`/`null`, so results compare and serialise cleanly. */
function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
