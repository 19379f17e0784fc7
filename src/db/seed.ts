import { z } from "zod";
import { upsertSpecies } from "../modules/species/species.repo.ts";
import type { Db } from "./connect.ts";

const SeedSpecies = z.object({
  scientificName: z.string().min(3),
  commonNames: z.array(z.string()),
  family: z.string(),
  genus: z.string(),
  category: z.string(),
  care: z.object({
    watering: z.string(),
    light: z.string(),
    temperature: z.string(),
    humidity: z.string(),
    soil: z.string(),
    fertilizing: z.string(),
    toxicity: z.string(),
  }),
});

export type SeedSpecies = z.infer<typeof SeedSpecies>;

let catalogue: Promise<SeedSpecies[]> | undefined;
/**
 * The catalogue (165 kB of JSON, checked) is read when a seed runs, not when this module loads: a start that
 * does not seed (production, SEED_ON_START=false) no longer pays for it (issue #17, cold start).
 */
export function loadSeedCatalogue(): Promise<SeedSpecies[]> {
  catalogue ??= import("./seed/species.json", { with: { type: "json" } }).then((m) =>
    z.array(SeedSpecies).parse(m.default),
  );
  return catalogue;
}

/** Idempotent: run on every start; rows are matched by scientific name, unchanged rows are not touched. */
export async function seedSpecies(db: Db): Promise<{ total: number; changed: number }> {
  const seedCatalogue = await loadSeedCatalogue();
  const changed = await db.transaction().execute((trx) => upsertSpecies(trx, seedCatalogue));
  return { total: seedCatalogue.length, changed };
}
