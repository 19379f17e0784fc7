import type { PlantIdHealth, PlantIdIdentification } from "./plant-id.ts";
import type { PlantNetResult } from "./plantnet.ts";
import type { ProviderName, WireFormat } from "./registry.ts";

/*
 * What an identification asks of the providers (the input, the plan of calls) and what it gets back (each
 * provider's answer, the per-call records), with the rules read off an outcome. The identifier (identify.ts)
 * produces it; services, jobs and the model records read it.
 */

export type ProviderStatus = "ok" | "no_match" | "failed" | "skipped" | "circuit_open";

/** How one provider took part in an identification. `value` is present for ok (and PlantNet's no_match). */
export type ProviderAnswer<T> = {
  status: ProviderStatus;
  /** true when the answer came from the cache instead of a call made for this request. */
  cached: boolean;
  value?: T;
  reason?: "not_configured" | "not_selected" | "quota_exhausted" | "error" | "timeout";
  /** When the provider may be usable again (skipped, circuit_open, failed with a hint). */
  retryAfterSeconds?: number;
};

export type IdentifyInput = {
  /** SHA-256 (hex) of each uploaded file, in order: with the options, the cache key. */
  imageHashes: readonly string[];
  /** The JPEGs (≤1024 px) the providers receive; only produced when some provider must really be called. */
  providerImages: () => Promise<Uint8Array[]>;
  /**
   * Called once every call whose answer is shown has been sent to its provider or settled without a call
   * (cache, open breaker, spent quota): from then on this request only waits, so other image work (storing the
   * photos) may start without delaying any provider call. Shadow calls are not waited for.
   */
  onDispatched?: () => void;
  organs: readonly string[];
  latitude?: number;
  longitude?: number;
  includeHealth: boolean;
  /**
   * Synchronous requests only: stop waiting for a provider after this many ms and report it as timed out. The
   * call itself goes on (within its own, longer deadline) and fills the shared cache, so a retry is served
   * from there; its failure still counts for the breaker. Workers leave this unset.
   */
  waitMs?: number;
};

/** A model's settings that change the provider's answer (models/experiments choose them; they are cache key). */
export type ModelSettings = Readonly<{
  /** PlantNet: the project (flora) asked. */
  project?: string;
  /** Plant.id: classification_level. */
  classificationLevel?: "species" | "all" | "genus";
}>;

/** One provider call an identification makes: which provider, with which model settings, and in which role. */
export type CallSpec = Readonly<{
  provider: ProviderName;
  settings?: ModelSettings;
  /** The registered model (models table) this call plays, when known. */
  modelId?: string;
  /** Shadow: called to collect a comparison; its answer never reaches the user's result. */
  shadow?: boolean;
}>;

/** Which calls an identification makes; undefined = every registry provider marked byDefault. */
export type IdentifyPlan = Readonly<{ calls: readonly CallSpec[] }>;

/** How one call went, for the per-call records (identification_model_calls). */
export type CallRecord = {
  provider: ProviderName;
  wire: WireFormat;
  modelId: string | undefined;
  shadow: boolean;
  settings: ModelSettings;
  answer: ProviderAnswer<unknown>;
  /** Milliseconds the call took; null when the answer came from the cache or no call was made. */
  latencyMs: number | null;
};

export type IdentifyOutcome = {
  /** The first answering Plant.id-format call of the plan (skipped/not_selected when the plan has none). */
  plantId: ProviderAnswer<PlantIdIdentification>;
  /** The first answering PlantNet-format call of the plan. */
  plantnet: ProviderAnswer<PlantNetResult>;
  health: ProviderAnswer<PlantIdHealth> | undefined;
  /** Every call whose answer may be shown (identify and health), in plan order. */
  calls: CallRecord[];
  /** Shadow calls, still running when identify() returns: nobody waits for them on the user's path. */
  shadows: Promise<CallRecord[]>;
};

/** A provider that gave an answer (a match or a clear "no match") took part; anything else did not. */
export function answered(answer: ProviderAnswer<unknown>): boolean {
  return answer.status === "ok" || answer.status === "no_match";
}

/** Retry-After for a failure that came with no hint of its own (an error, a timeout). */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** Neither provider answered: the earliest moment one of them may be usable again, in seconds. */
export function unavailableRetryAfter(
  outcome: Pick<IdentifyOutcome, "plantId" | "plantnet" | "health">,
  fallbackSeconds = DEFAULT_RETRY_AFTER_SECONDS,
): number | undefined {
  if (answered(outcome.plantId) || answered(outcome.plantnet)) return undefined;
  const hints = [outcome.plantId, outcome.plantnet].map((a) => a.retryAfterSeconds ?? fallbackSeconds);
  return Math.max(1, Math.min(...hints));
}
