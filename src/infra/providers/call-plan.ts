/** One provider call of an identification, planned: its client method, cache key, deadline and budget. */
import type { ProviderConfigKey } from "../../config/identification.ts";
import type { IdentifyDeps } from "./identify.ts";
import type { CallSpec, IdentifyInput } from "./identify-contract.ts";
import type { PlantNetResult } from "./plantnet.ts";
import { PROVIDER_REGISTRY, type ProviderDefinition, type ProviderName } from "./registry.ts";

/** PlantNet options that change its answer; they are part of the cache key. */
const PLANTNET_LANG = "en";
const PLANTNET_RESULTS = 5;
const CACHE_KEY_VERSION = 1;

function cacheKey(parts: Record<string, unknown>): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(JSON.stringify({ v: CACHE_KEY_VERSION, ...parts }));
  return hasher.digest("hex");
}

export type CallPlan<T> = {
  provider: ProviderName;
  /** Whose hourly/daily budget the call spends: health assessments are Plant.id credits too. */
  budget: string;
  key: string;
  timeoutMs: number;
  ttlSeconds: number;
  call: ((images: Uint8Array[], signal: AbortSignal) => Promise<T>) | undefined;
  isNoMatch?: (value: T) => boolean;
};

/** The call plan of one spec: its client method, cache key, deadline and budget, from the registry entry. */
export function planCall(
  deps: Pick<IdentifyDeps, "clients" | "settings">,
  spec: CallSpec,
  input: IdentifyInput,
): CallPlan<unknown> {
  const def = PROVIDER_REGISTRY[spec.provider] as ProviderDefinition;
  const base = deps.settings[def.reportKey as ProviderConfigKey];
  const timeoutMs = base?.timeoutMs ?? def.timeoutMs;
  const ttlSeconds = base?.cacheTtlSeconds ?? 86_400;
  const location = { latitude: input.latitude ?? null, longitude: input.longitude ?? null };
  const plantIdInput = (images: Uint8Array[], level?: string) => ({
    images,
    ...(input.latitude !== undefined ? { latitude: input.latitude } : {}),
    ...(input.longitude !== undefined ? { longitude: input.longitude } : {}),
    ...(level ? { classificationLevel: level as "species" | "all" | "genus" } : {}),
  });
  const common = { provider: spec.provider, budget: def.account, timeoutMs, ttlSeconds };
  if (def.wire === "plantnet") {
    const client = deps.clients.plantnet;
    const project = spec.settings?.project ?? base?.project ?? def.project ?? "k-world-flora";
    return {
      ...common,
      key: cacheKey({
        images: input.imageHashes,
        organs: input.organs,
        project,
        lang: PLANTNET_LANG,
        results: PLANTNET_RESULTS,
      }),
      call:
        client &&
        ((images, signal) =>
          client.identify(
            {
              images: images.map((bytes, i) => ({ bytes, organ: input.organs[i] ?? "auto" })),
              lang: PLANTNET_LANG,
              nbResults: PLANTNET_RESULTS,
              project,
            },
            signal,
          )),
      isNoMatch: (value) => (value as PlantNetResult).status === "no_match",
    };
  }
  const client = deps.clients["plant-id"];
  if (def.wire === "plant-id-health") {
    return {
      ...common,
      key: cacheKey({ images: input.imageHashes, ...location }),
      call: client && ((images, signal) => client.assessHealth(plantIdInput(images), signal)),
    };
  }
  const level = spec.settings?.classificationLevel ?? base?.classificationLevel ?? def.classificationLevel;
  return {
    ...common,
    // The level joins the key only when set, so the default model keeps the cache it always had.
    key: cacheKey({
      images: input.imageHashes,
      ...location,
      similarImages: true,
      ...(level ? { level } : {}),
    }),
    call: client && ((images, signal) => client.identify(plantIdInput(images, level), signal)),
  };
}
