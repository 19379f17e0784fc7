import { hexId } from "./sim-catalogue.ts";

const DISEASES = [
  {
    name: "water deficiency",
    classification: ["Abiotic"],
    description: "Water deficiency is a condition in which the plant does not get enough water.",
    treatment: {
      biological: [],
      chemical: [],
      prevention: ["Water regularly, more often in hot weather.", "Mulch the soil to keep moisture in."],
    },
  },
  {
    name: "Fungi",
    classification: ["Fungi"],
    description: "Fungal pathogens spread by spores and thrive in humid conditions.",
    treatment: {
      biological: ["Spray with a Bacillus subtilis preparation."],
      chemical: ["Apply a copper-based fungicide."],
      prevention: ["Avoid wetting the leaves.", "Improve air circulation."],
    },
  },
  {
    name: "nutrient deficiency",
    classification: ["Abiotic"],
    description: "A lack of one or more nutrients shows as yellowing or stunted growth.",
    treatment: {
      biological: ["Add compost."],
      chemical: ["Use a balanced fertiliser."],
      prevention: ["Feed in spring."],
    },
  },
  {
    name: "Insecta",
    classification: ["Animalia", "Insecta"],
    description: "Insects feeding on the plant damage leaves and stems.",
    treatment: {
      biological: ["Release ladybirds.", "Spray with neem oil."],
      chemical: ["Apply a pyrethroid insecticide as a last resort."],
      prevention: ["Inspect new plants before bringing them home."],
    },
  },
] as const;

/** The `result` part of a health assessment, chosen deterministically from the image hash. */
export function plantIdDiseases(hashHex: string, details: Set<string>) {
  const byte = (i: number) => Number.parseInt(hashHex.slice(i * 2, i * 2 + 2), 16);
  const healthy = byte(7) % 2 === 0;
  const first = byte(8) % DISEASES.length;
  const probabilities = healthy ? [0.1834, 0.0921] : [0.7412, 0.2133, 0.0655];

  const suggestions = probabilities.map((probability, i) => {
    const disease = DISEASES[(first + i) % DISEASES.length] as (typeof DISEASES)[number];
    const all: Record<string, unknown> = {
      description: disease.description,
      treatment: disease.treatment,
      classification: disease.classification,
    };
    return {
      id: hexId(disease.name),
      name: disease.name,
      probability,
      details: {
        ...Object.fromEntries(Object.entries(all).filter(([key]) => details.has(key))),
        language: "en",
        entity_id: hexId(disease.name, 16),
      },
    };
  });

  return {
    is_healthy: healthy
      ? { probability: 0.9123, binary: true, threshold: 0.525 }
      : { probability: 0.1978, binary: false, threshold: 0.525 },
    disease: { suggestions },
  };
}
