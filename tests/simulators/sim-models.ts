import { sha256Hex } from "./sim-catalogue.ts";

/**
 * The model versions the simulator plays. Like the real providers, the version is chosen by the request:
 * Plant.id by the body's `classification_level`, PlantNet by the project in the path. A test (or a dev stack)
 * can also force one with the `X-Sim-Model-Version` header. Each version answers the same photo differently
 * (its picks are seeded by the version), so an experiment between two of them has something to compare.
 */
export const PLANT_ID_DEFAULT_VERSION = "plant_id:3.6.0";
export const PLANT_ID_VERSIONS: Record<string, string> = {
  species: PLANT_ID_DEFAULT_VERSION,
  all: "plant_id:3.7.0",
  genus: "plant_id:3.7.0-genus",
};
export const PLANTNET_DEFAULT_VERSION = "2025-01-17 (7.3)";
export const PLANTNET_VERSIONS: Record<string, string> = {
  "k-world-flora": PLANTNET_DEFAULT_VERSION,
  "k-middle-europe": "2025-06-30 (7.4) k-middle-europe",
  useful: "2025-06-30 (7.4) useful",
  weeds: "2025-06-30 (7.4) weeds",
};
export const MODEL_VERSION_HEADER = "x-sim-model-version";

export function plantIdVersionOf(req: Request, classificationLevel: string | undefined): string {
  return (
    req.headers.get(MODEL_VERSION_HEADER) ??
    PLANT_ID_VERSIONS[classificationLevel ?? "species"] ??
    PLANT_ID_DEFAULT_VERSION
  );
}

export function plantnetVersionOf(req: Request, project: string): string {
  return req.headers.get(MODEL_VERSION_HEADER) ?? PLANTNET_VERSIONS[project] ?? `2025-06-30 (7.4) ${project}`;
}

/** The photo hash a version picks species from: the default versions keep the answers they always gave. */
export function versionedHash(hash: string, version: string, defaultVersion: string): string {
  return version === defaultVersion ? hash : sha256Hex([new TextEncoder().encode(`${version}:${hash}`)]);
}
