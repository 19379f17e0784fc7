import sharp from "sharp";
import type { CatalogueSpecies } from "../simulators/provider-simulator.ts";

export const smallCatalogue: CatalogueSpecies[] = [
  {
    scientificName: "Monstera deliciosa",
    commonNames: ["Swiss cheese plant"],
    family: "Araceae",
    genus: "Monstera",
  },
  { scientificName: "Ficus lyrata", commonNames: ["Fiddle-leaf fig"], family: "Moraceae", genus: "Ficus" },
  {
    scientificName: "Sansevieria trifasciata",
    commonNames: ["Snake plant"],
    family: "Asparagaceae",
    genus: "Sansevieria",
  },
  {
    scientificName: "Epipremnum aureum",
    commonNames: ["Golden pothos"],
    family: "Araceae",
    genus: "Epipremnum",
  },
  {
    scientificName: "Calathea orbifolia",
    commonNames: ["Prayer plant"],
    family: "Marantaceae",
    genus: "Calathea",
  },
  { scientificName: "Aloe vera", commonNames: ["Aloe"], family: "Asphodelaceae", genus: "Aloe" },
  {
    scientificName: "Spathiphyllum wallisii",
    commonNames: ["Peace lily"],
    family: "Araceae",
    genus: "Spathiphyllum",
  },
  {
    scientificName: "Zamioculcas zamiifolia",
    commonNames: ["ZZ plant"],
    family: "Araceae",
    genus: "Zamioculcas",
  },
];

/** A real 200x200 JPEG of one colour: different colours give different bytes, hence different picks. */
export async function solidJpeg(r: number, g: number, b: number): Promise<Uint8Array> {
  const buffer = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r, g, b } } })
    .jpeg()
    .toBuffer();
  return new Uint8Array(buffer);
}

/** Runs `call` and returns what it threw (fails the test when it does not throw). */
export async function thrownBy(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to throw");
}

/** The value, or a failed test when it is missing (instead of a non-null assertion). */
export function present<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`expected ${what} to be present`);
  return value;
}
