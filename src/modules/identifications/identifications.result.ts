import {
  answered,
  type IdentifyOutcome,
  type ProviderAnswer,
} from "../../infra/providers/identify-contract.ts";
import { type MergedSuggestion, mergeSuggestions, speciesKey } from "../../infra/providers/merge.ts";
import type { PlantIdHealth } from "../../infra/providers/plant-id.ts";
import type { Health, ProviderReport, Suggestion } from "./identifications.schemas.ts";

/** The provider-derived part of an identification, as stored in `identifications.result`. */
export type IdentificationResult = {
  isPlant: boolean | null;
  confidence: number | null;
  modelVersion: string | null;
  suggestions: Suggestion[];
  health?: Health;
  providers: { plantId: ProviderReport; plantnet: ProviderReport; plantIdHealth?: ProviderReport };
};

function report(answer: ProviderAnswer<unknown>): ProviderReport {
  return {
    status: answer.status,
    cached: answer.cached,
    ...(answer.reason ? { reason: answer.reason } : {}),
  };
}

function toHealth(health: PlantIdHealth): Health {
  return {
    isHealthy: health.isHealthy.binary,
    probability: health.isHealthy.probability,
    diseases: health.diseases.map((d) => ({
      name: d.name,
      probability: d.probability,
      description: d.description ?? null,
      treatment: d.treatment,
    })),
  };
}

function toSuggestion(s: MergedSuggestion, speciesIds: ReadonlyMap<string, string>): Suggestion {
  const speciesId = speciesIds.get(speciesKey(s.scientificName));
  return {
    rank: s.rank,
    scientificName: s.scientificName,
    commonNames: s.commonNames,
    probability: s.probability,
    family: s.family,
    genus: s.genus,
    sources: s.sources,
    ...(speciesId ? { speciesId } : {}),
    similarImages: s.similarImages,
  };
}

/**
 * combined (the default): every answering provider's suggestions merged. first_answer (an experiment variant's
 * choice): only the suggestions of the first model of the variant that answered.
 */
export function mergedSuggestions(
  outcome: Pick<IdentifyOutcome, "plantId" | "plantnet"> & Partial<Pick<IdentifyOutcome, "calls">>,
  merge: "combined" | "first_answer" = "combined",
): MergedSuggestion[] {
  if (merge === "first_answer") {
    const first = outcome.calls?.find((c) => c.wire !== "plant-id-health" && answered(c.answer));
    if (first?.wire === "plant-id") return mergeSuggestions(outcome.plantId.value, undefined);
    if (first?.wire === "plantnet") return mergeSuggestions(undefined, outcome.plantnet.value);
  }
  return mergeSuggestions(outcome.plantId.value, outcome.plantnet.value);
}

/**
 * Merged, ranked suggestions (linked to the catalogue through `speciesIds`, keyed by speciesKey) and what
 * each provider did. isPlant comes from Plant.id; without it, PlantNet naming a species implies a plant.
 */
export function buildResult(
  outcome: IdentifyOutcome,
  merged: MergedSuggestion[],
  speciesIds: ReadonlyMap<string, string>,
): IdentificationResult {
  const plantId = outcome.plantId.value;
  const plantnet = outcome.plantnet.value;
  const suggestions = merged.map((s) => toSuggestion(s, speciesIds));
  const isPlant = plantId ? plantId.isPlant.binary : plantnet?.status === "ok" ? true : null;
  const modelVersion =
    plantId?.modelVersion ?? (plantnet?.status === "ok" ? `plantnet:${plantnet.version}` : null);
  const health = outcome.health?.value;
  return {
    isPlant,
    confidence: suggestions[0]?.probability ?? null,
    modelVersion,
    suggestions,
    ...(health ? { health: toHealth(health) } : {}),
    providers: {
      plantId: report(outcome.plantId),
      plantnet: report(outcome.plantnet),
      ...(outcome.health ? { plantIdHealth: report(outcome.health) } : {}),
    },
  };
}
