import { z } from "zod";
import { upsertSpecies } from "../modules/species/species.repo.ts";
import type { Db } from "./connect.ts";
import speciesSeed from "./seed/species.json" with { type: "json" };

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

export const seedCatalogue = z.array(SeedSpecies).parse(speciesSeed);

/** Idempotent: run on every start; rows are matched by scientific name, unchanged rows are not touched. */
export async function seedSpecies(db: Db): Promise<{ total: number; changed: number }> {
  const changed = await db.transaction().execute((trx) => upsertSpecies(trx, seedCatalogue));
  return { total: seedCatalogue.length, changed };
}
