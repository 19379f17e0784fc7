import { describe, expect, test } from "bun:test";
import { mergeSuggestions } from "../../src/infra/providers/merge.ts";
import type { PlantIdIdentification, PlantIdSuggestion } from "../../src/infra/providers/plant-id.ts";
import type { PlantNetMatch, PlantNetResult } from "../../src/infra/providers/plantnet.ts";

const plantIdSuggestion = (
  scientificName: string,
  probability: number,
  extra: Partial<PlantIdSuggestion> = {},
) => ({
  scientificName,
  probability,
  commonNames: [],
  similarImages: [],
  externalId: scientificName,
  ...extra,
});

const plantIdAnswer = (...suggestions: PlantIdSuggestion[]): PlantIdIdentification => ({
  modelVersion: "plant_id:3.6.0",
  isPlant: { probability: 0.99, binary: true },
  suggestions,
});

const plantnetMatch = (scientificName: string, score: number, extra: Partial<PlantNetMatch> = {}) => ({
  scientificName,
  score,
  authorship: "L.",
  commonNames: [],
  ...extra,
});

const plantnetAnswer = (...results: PlantNetMatch[]): PlantNetResult => ({
  status: "ok",
  bestMatch: results[0]?.scientificName ?? "",
  version: "test",
  results,
});

describe("mergeSuggestions", () => {
  test("a species named by both providers appears once, with both sources and PlantNet's score", () => {
    const merged = mergeSuggestions(
      plantIdAnswer(plantIdSuggestion("Monstera deliciosa", 0.8)),
      plantnetAnswer(plantnetMatch("monstera   Deliciosa", 0.6, { family: "Araceae", genus: "Monstera" })),
    );
    expect(merged).toEqual([
      {
        rank: 1,
        scientificName: "Monstera deliciosa",
        commonNames: [],
        probability: 0.8,
        family: "Araceae",
        genus: "Monstera",
        sources: ["plant_id", "plantnet"],
        plantnetScore: 0.6,
        similarImages: [],
      },
    ]);
  });

  test("PlantNet fills common names, family and genus only where Plant.id left them empty", () => {
    const [merged] = mergeSuggestions(
      plantIdAnswer(
        plantIdSuggestion("Ficus lyrata", 0.7, { family: "Moraceae", commonNames: ["Fiddle-leaf fig"] }),
      ),
      plantnetAnswer(
        plantnetMatch("Ficus lyrata", 0.5, { family: "Other", genus: "Ficus", commonNames: ["Banjo fig"] }),
      ),
    );
    expect(merged).toMatchObject({ family: "Moraceae", genus: "Ficus", commonNames: ["Fiddle-leaf fig"] });
  });

  test("PlantNet-only species are appended with probability equal to their score, then all sort by probability", () => {
    const merged = mergeSuggestions(
      plantIdAnswer(plantIdSuggestion("Aloe vera", 0.5), plantIdSuggestion("Ficus lyrata", 0.1)),
      plantnetAnswer(plantnetMatch("Aloe vera", 0.4), plantnetMatch("Zamioculcas zamiifolia", 0.3)),
    );
    expect(merged.map((m) => [m.rank, m.scientificName, m.probability, m.sources])).toEqual([
      [1, "Aloe vera", 0.5, ["plant_id", "plantnet"]],
      [2, "Zamioculcas zamiifolia", 0.3, ["plantnet"]],
      [3, "Ficus lyrata", 0.1, ["plant_id"]],
    ]);
  });

  test("on equal probability Plant.id's suggestion stays ahead", () => {
    const merged = mergeSuggestions(
      plantIdAnswer(plantIdSuggestion("Aloe vera", 0.3)),
      plantnetAnswer(plantnetMatch("Ficus lyrata", 0.3)),
    );
    expect(merged.map((m) => m.scientificName)).toEqual(["Aloe vera", "Ficus lyrata"]);
  });

  test("either provider alone, PlantNet's no match, or nothing at all still gives a ranked list", () => {
    expect(mergeSuggestions(undefined, plantnetAnswer(plantnetMatch("Aloe vera", 0.9)))[0]).toMatchObject({
      rank: 1,
      sources: ["plantnet"],
      family: null,
    });
    expect(
      mergeSuggestions(plantIdAnswer(plantIdSuggestion("Aloe vera", 0.9)), { status: "no_match" }),
    ).toHaveLength(1);
    expect(mergeSuggestions()).toEqual([]);
  });

  test("the list is capped at ten suggestions", () => {
    const many = Array.from({ length: 8 }, (_, i) => plantIdSuggestion(`Species p${i}`, 0.5 - i / 100));
    const more = Array.from({ length: 8 }, (_, i) => plantnetMatch(`Species n${i}`, 0.4 - i / 100));
    const merged = mergeSuggestions(plantIdAnswer(...many), plantnetAnswer(...more));
    expect(merged).toHaveLength(10);
    expect(merged.at(-1)?.rank).toBe(10);
  });
});
