import {
  type CatalogueSpecies,
  inspectImage,
  nameId,
  pickSpecies,
  type ScoredSpecies,
  sha256Hex,
} from "./sim-catalogue.ts";
import { PLANTNET_DEFAULT_VERSION, plantnetVersionOf, versionedHash } from "./sim-models.ts";

export interface PlantNetSimContext {
  catalogue: CatalogueSpecies[];
  apiKey: string;
  notAPlant: boolean;
  /** Decremented on every successful identification, like the real daily quota. */
  quota: { remaining: number };
}

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** PlantNet's errors have the hapi/Boom shape: the 404 body in providers.md is the verified example. */
export function plantnetError(status: number, message: string, headers?: Record<string, string>): Response {
  const error = STATUS_TITLES[status] ?? "Error";
  return Response.json({ statusCode: status, error, message }, { status, headers });
}

const QUERY_OPTIONS = new Set([
  "api-key",
  "include-related-images",
  "no-reject",
  "nb-results",
  "lang",
  "type",
  "detailed",
]);
const ORGANS = new Set(["leaf", "flower", "fruit", "bark", "habit", "other", "auto"]);
const BOOLEAN = /^(true|false)$/;

export async function answerPlantNet(
  req: Request,
  project: string,
  ctx: PlantNetSimContext,
): Promise<Response> {
  const query = new URL(req.url).searchParams;
  if (query.get("api-key") !== ctx.apiKey) return plantnetError(401, "Invalid API key");
  for (const name of query.keys()) {
    if (!QUERY_OPTIONS.has(name)) return plantnetError(400, `"${name}" is not allowed`);
  }
  for (const flag of ["include-related-images", "no-reject"]) {
    const value = query.get(flag);
    if (value !== null && !BOOLEAN.test(value)) return plantnetError(400, `"${flag}" must be a boolean`);
  }
  const nbResults = Number(query.get("nb-results") ?? "10");
  if (!Number.isInteger(nbResults) || nbResults < 1)
    return plantnetError(400, '"nb-results" must be a positive integer');
  if (!/^[a-z0-9-]+$/.test(project)) return plantnetError(404, "Project not found");

  if (!(req.headers.get("content-type") ?? "").startsWith("multipart/form-data")) {
    return plantnetError(415, "Unsupported Media Type");
  }
  const form = await req.formData().catch(() => null);
  if (!form) return plantnetError(400, "Invalid multipart payload");
  for (const name of form.keys()) {
    // Options sent as form fields and indexed names such as `organs[0]` are both rejected.
    if (name !== "images" && name !== "organs") return plantnetError(400, `"${name}" is not allowed`);
  }
  const imageParts = form.getAll("images");
  const organs = form.getAll("organs");
  if (imageParts.length < 1 || imageParts.length > 5)
    return plantnetError(400, '"images" must contain 1 to 5 items');
  if (imageParts.some((part) => typeof part === "string"))
    return plantnetError(400, '"images" must be files');
  if (organs.length !== imageParts.length) {
    return plantnetError(400, "images[] length and organs[] length must be equal");
  }
  const badOrgan = organs.find((organ) => typeof organ !== "string" || !ORGANS.has(organ));
  if (badOrgan !== undefined) return plantnetError(400, `"organs" contains an invalid value`);

  const images = await Promise.all(
    imageParts.map(async (part) => new Uint8Array(await (part as Blob).arrayBuffer())),
  );
  const inspected = await Promise.all(images.map(inspectImage));
  if (inspected.some((i) => i === null)) return plantnetError(400, "Unsupported image format");
  if (ctx.notAPlant || inspected.some((i) => i?.looksLikeNotAPlant))
    return plantnetError(404, "Species not found");

  const version = plantnetVersionOf(req, project);
  const hash = versionedHash(sha256Hex(images), version, PLANTNET_DEFAULT_VERSION);
  const results = pickSpecies(ctx.catalogue, hash).plantnet.slice(0, nbResults);
  if (results.length === 0) return plantnetError(404, "Species not found");
  ctx.quota.remaining = Math.max(0, ctx.quota.remaining - 1);

  return Response.json({
    query: {
      project,
      images: images.map((_, i) => `${hash.slice(0, 32)}${i}`),
      organs,
      includeRelatedImages: query.get("include-related-images") === "true",
      noReject: query.get("no-reject") === "true",
    },
    language: query.get("lang") ?? "en",
    preferedReferential: project,
    bestMatch: speciesWire(results[0] as ScoredSpecies).scientificName,
    results: results.map((result) => ({
      score: result.score,
      species: speciesWire(result),
      gbif: { id: nameId(result.species.scientificName, 7) },
      powo: { id: `${nameId(result.species.scientificName, 6)}-1` },
    })),
    version,
    remainingIdentificationRequests: ctx.quota.remaining,
  });
}

const AUTHORSHIPS = ["L.", "Mill.", "(L.) Hill", "Schott", "Engl."];

function speciesWire({ species }: ScoredSpecies) {
  const authorship = AUTHORSHIPS[Number(nameId(species.scientificName, 3)) % AUTHORSHIPS.length] as string;
  return {
    scientificNameWithoutAuthor: species.scientificName,
    scientificNameAuthorship: authorship,
    genus: {
      scientificNameWithoutAuthor: species.genus,
      scientificNameAuthorship: "",
      scientificName: species.genus,
    },
    family: {
      scientificNameWithoutAuthor: species.family,
      scientificNameAuthorship: "",
      scientificName: species.family,
    },
    commonNames: species.commonNames,
    scientificName: `${species.scientificName} ${authorship}`,
  };
}
