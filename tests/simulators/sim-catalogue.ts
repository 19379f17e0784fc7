import sharp from "sharp";

export interface CatalogueSpecies {
  scientificName: string;
  commonNames: string[];
  family: string;
  genus: string;
}

export interface ScoredSpecies {
  species: CatalogueSpecies;
  score: number;
}

/**
 * A uniform magenta picture is the simulator's "photo of a chair". Colour survives the API's JPEG re-encode
 * and resize, which a magic byte pattern or hash would not.
 */
export const NOT_A_PLANT_COLOUR = { r: 255, g: 0, b: 255 } as const;

export function sha256Hex(chunks: Uint8Array[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const chunk of chunks) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Decodes the image; null when the bytes are not an image sharp can read (the providers answer 400). */
export async function inspectImage(bytes: Uint8Array): Promise<{ looksLikeNotAPlant: boolean } | null> {
  try {
    const stats = await sharp(bytes).stats();
    const [r, g, b] = stats.channels.map((c) => c.mean);
    const near = (value: number | undefined, target: number) =>
      value !== undefined && Math.abs(value - target) < 24;
    return {
      looksLikeNotAPlant:
        near(r, NOT_A_PLANT_COLOUR.r) && near(g, NOT_A_PLANT_COLOUR.g) && near(b, NOT_A_PLANT_COLOUR.b),
    };
  } catch {
    return null;
  }
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * Deterministic picks from the catalogue for an image hash.
 * Plant.id: 3–5 consecutive species starting at hash mod n, probabilities descending and summing below 1.
 * PlantNet: Plant.id's first two species (so the merge has something to merge) plus one species Plant.id did
 * not suggest, scores descending.
 */
export function pickSpecies(
  catalogue: CatalogueSpecies[],
  hashHex: string,
): { plantId: ScoredSpecies[]; plantnet: ScoredSpecies[] } {
  const n = catalogue.length;
  if (n === 0) return { plantId: [], plantnet: [] };
  const byte = (i: number) => Number.parseInt(hashHex.slice(i * 2, i * 2 + 2), 16);
  const at = (i: number) => catalogue[i % n] as CatalogueSpecies;

  const start = Number.parseInt(hashHex.slice(0, 8), 16) % n;
  const count = Math.min(3 + (byte(4) % 3), Math.max(1, n - 1));
  const top = round4(0.55 + (byte(5) / 255) * 0.4);

  const plantId: ScoredSpecies[] = [{ species: at(start), score: top }];
  let remaining = 1 - top;
  for (let i = 1; i < count; i++) {
    const probability = round4(remaining * 0.5);
    remaining -= probability;
    plantId.push({ species: at(start + i), score: Math.max(probability, 0.0001) });
  }

  const plantnet: ScoredSpecies[] = plantId.slice(0, 2).map((s, i) => ({
    species: s.species,
    score: round4(s.score * (i === 0 ? 0.85 : 0.9)),
  }));
  if (n > count) plantnet.push({ species: at(start + count), score: round4(0.01 + (byte(6) / 255) * 0.1) });
  plantnet.sort((a, b) => b.score - a.score);
  return { plantId, plantnet };
}

/** Low-probability suggestions, as Plant.id still returns for a picture that is not a plant. */
export function pickUnlikelySpecies(catalogue: CatalogueSpecies[], hashHex: string): ScoredSpecies[] {
  return pickSpecies(catalogue, hashHex)
    .plantId.slice(0, 2)
    .map((s, i) => ({ species: s.species, score: i === 0 ? 0.0412 : 0.0187 }));
}

/** Stable pseudo-ids derived from a name, so repeated answers look like one knowledge base. */
export function nameId(name: string, digits: number): string {
  const hex = sha256Hex([new TextEncoder().encode(name)]);
  return String(Number.parseInt(hex.slice(0, 12), 16)).slice(0, digits);
}

export function hexId(name: string, length = 16): string {
  return sha256Hex([new TextEncoder().encode(name)]).slice(0, length);
}
