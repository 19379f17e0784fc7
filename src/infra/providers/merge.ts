import type { PlantIdIdentification, SimilarImage } from "./plant-id.ts";
import type { PlantNetResult } from "./plantnet.ts";

export type SuggestionSource = "plant_id" | "plantnet";

export interface MergedSuggestion {
  rank: number;
  scientificName: string;
  commonNames: string[];
  /** Plant.id's probability when Plant.id suggested the species, else PlantNet's score. */
  probability: number;
  family: string | null;
  genus: string | null;
  sources: SuggestionSource[];
  /** PlantNet's own score when PlantNet also suggested the species. */
  plantnetScore: number | null;
  similarImages: SimilarImage[];
}

export const MAX_MERGED_SUGGESTIONS = 10;

/** Case-insensitive, whitespace-normalised; both inputs are names without authorship. */
export function speciesKey(scientificName: string): string {
  return scientificName.trim().replace(/\s+/g, " ").toLowerCase();
}

/**
 * Plant.id suggestions first; a PlantNet result naming the same species enriches that suggestion instead of
 * appearing twice; the other PlantNet results follow with probability = score. Then a stable sort by
 * probability (so on ties Plant.id's order wins), ranks 1..n, at most 10.
 */
export function mergeSuggestions(
  plantId?: PlantIdIdentification,
  plantnet?: PlantNetResult,
): MergedSuggestion[] {
  const merged: Omit<MergedSuggestion, "rank">[] = [];
  const byKey = new Map<string, Omit<MergedSuggestion, "rank">>();

  for (const s of plantId?.suggestions ?? []) {
    const key = speciesKey(s.scientificName);
    if (byKey.has(key)) continue;
    const item = {
      scientificName: s.scientificName,
      commonNames: [...s.commonNames],
      probability: s.probability,
      family: s.family ?? null,
      genus: s.genus ?? null,
      sources: ["plant_id"] as SuggestionSource[],
      plantnetScore: null,
      similarImages: s.similarImages,
    };
    byKey.set(key, item);
    merged.push(item);
  }

  const plantnetMatches = plantnet?.status === "ok" ? plantnet.results : [];
  for (const match of plantnetMatches) {
    const existing = byKey.get(speciesKey(match.scientificName));
    if (existing) {
      if (existing.sources.includes("plantnet")) continue;
      existing.sources.push("plantnet");
      existing.plantnetScore = match.score;
      existing.family ??= match.family ?? null;
      existing.genus ??= match.genus ?? null;
      if (existing.commonNames.length === 0) existing.commonNames = [...match.commonNames];
      continue;
    }
    const item = {
      scientificName: match.scientificName,
      commonNames: [...match.commonNames],
      probability: match.score,
      family: match.family ?? null,
      genus: match.genus ?? null,
      sources: ["plantnet"] as SuggestionSource[],
      plantnetScore: match.score,
      similarImages: [],
    };
    byKey.set(speciesKey(match.scientificName), item);
    merged.push(item);
  }

  return merged
    .sort((a, b) => b.probability - a.probability)
    .slice(0, MAX_MERGED_SUGGESTIONS)
    .map((item, index) => ({ rank: index + 1, ...item }));
}
