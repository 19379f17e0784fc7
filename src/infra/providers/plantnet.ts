import { isSpeciesNotFound, PlantNetIdentifyWire } from "./plantnet.wire.ts";
import {
  type FetchLike,
  httpStatusError,
  parseWireBody,
  readBodyText,
  readJsonBody,
  sendProviderRequest,
} from "./provider-fetch.ts";

export interface PlantNetImage {
  /**
   * JPEG bytes. PlantNet expects JPEG with the longest side ≤ 1024 px; re-encoding is the caller's job
   * (the identification service does it once and reuses the bytes for both providers and the cache key).
   */
  bytes: Uint8Array;
  /** leaf, flower, fruit, bark, habit, other or auto */
  organ: string;
}

export interface PlantNetInput {
  images: PlantNetImage[];
  lang?: string;
  nbResults?: number;
  /** Another project (flora) than the client's default, for this call. */
  project?: string;
}

export interface PlantNetMatch {
  score: number;
  /** scientificNameWithoutAuthor */
  scientificName: string;
  authorship: string;
  commonNames: string[];
  family?: string;
  genus?: string;
  gbifId?: string;
  powoId?: string;
}

export type PlantNetResult =
  | {
      status: "ok";
      bestMatch: string;
      version: string;
      remainingIdentificationRequests?: number;
      results: PlantNetMatch[];
    }
  | { status: "no_match" };

export interface PlantNetClient {
  identify(input: PlantNetInput, signal: AbortSignal): Promise<PlantNetResult>;
}

export const PLANTNET_DEFAULT_BASE_URL = "https://my-api.plantnet.org/v2";
export const PLANTNET_DEFAULT_PROJECT = "k-world-flora";
const DEFAULT_NB_RESULTS = 5;

export function createPlantNetClient(options: {
  baseUrl?: string;
  apiKey: string;
  project?: string;
  fetch?: FetchLike;
}): PlantNetClient {
  const baseUrl = (options.baseUrl ?? PLANTNET_DEFAULT_BASE_URL).replace(/\/+$/, "");
  const project = options.project ?? PLANTNET_DEFAULT_PROJECT;
  const fetchFn = options.fetch ?? fetch;

  return {
    async identify(input, signal) {
      // Options go in the query string: PlantNet answers 400 when they are sent as form fields.
      const query = new URLSearchParams({
        "api-key": options.apiKey,
        "include-related-images": "false",
        "no-reject": "false",
        "nb-results": String(input.nbResults ?? DEFAULT_NB_RESULTS),
        lang: input.lang ?? "en",
      });
      const url = `${baseUrl}/identify/${encodeURIComponent(input.project ?? project)}?${query}`;
      const res = await sendProviderRequest(
        "plantnet",
        fetchFn,
        url,
        { method: "POST", body: toFormData(input) },
        signal,
      );

      if (res.status === 404) {
        const text = await readBodyText("plantnet", res, signal);
        if (isSpeciesNotFound(404, safeJsonParse(text))) return { status: "no_match" };
        throw await httpStatusError("plantnet", res, text);
      }
      if (res.status !== 200) throw await httpStatusError("plantnet", res);

      const body = await readJsonBody("plantnet", res, signal);
      return toResult(parseWireBody("plantnet", PlantNetIdentifyWire, body, res.status));
    },
  };
}

// Every image is a part named `images`, every organ a field named `organs`, in the same order.
// Indexed names such as `organs[0]` are rejected by PlantNet.
function toFormData(input: PlantNetInput): FormData {
  const form = new FormData();
  input.images.forEach((image, index) => {
    form.append(
      "images",
      new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
      `image-${index + 1}.jpg`,
    );
  });
  for (const image of input.images) form.append("organs", image.organ);
  return form;
}

function toResult(wire: PlantNetIdentifyWire): PlantNetResult {
  return {
    status: "ok",
    bestMatch: wire.bestMatch,
    version: wire.version,
    ...(typeof wire.remainingIdentificationRequests === "number"
      ? { remainingIdentificationRequests: wire.remainingIdentificationRequests }
      : {}),
    results: wire.results.map((r) => {
      const match: PlantNetMatch = {
        score: r.score,
        scientificName: r.species.scientificNameWithoutAuthor,
        authorship: r.species.scientificNameAuthorship ?? "",
        commonNames: r.species.commonNames ?? [],
      };
      if (r.species.family) match.family = r.species.family.scientificNameWithoutAuthor;
      if (r.species.genus) match.genus = r.species.genus.scientificNameWithoutAuthor;
      if (r.gbif) match.gbifId = r.gbif.id;
      if (r.powo) match.powoId = r.powo.id;
      return match;
    }),
  };
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
