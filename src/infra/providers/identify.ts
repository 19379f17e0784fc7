import type { ProviderConfigKey } from "../../config/identification.ts";
import type { Cache } from "../cache.ts";
import type { Logger } from "../logger.ts";
import { withSpan } from "../tracing/spans.ts";
import { type CallPlan, planCall } from "./call-plan.ts";
import type { PlantIdClient, PlantIdHealth, PlantIdIdentification } from "./plant-id.ts";
import type { PlantNetClient, PlantNetResult } from "./plantnet.ts";
import { callProvider, type ProviderGates } from "./provider-gate.ts";
import type { ProviderPace } from "./provider-pace.ts";
import type { ProviderQuota } from "./provider-quota.ts";
import { breakerOpenFor, type Wait, within } from "./provider-wait.ts";
import {
  PROVIDER_NAMES,
  PROVIDER_REGISTRY,
  type ProviderDefinition,
  type ProviderName,
  type WireFormat,
} from "./registry.ts";

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

export type ProviderCallSettings = Readonly<{
  timeoutMs: number;
  cacheTtlSeconds: number;
  project?: string;
  classificationLevel?: "species" | "all" | "genus";
}>;

/** One client per account (it carries the key and base URL); the wire format picks the client's method. */
export type ProviderClients = Readonly<{
  "plant-id"?: PlantIdClient | undefined;
  plantnet?: PlantNetClient | undefined;
}>;

export type IdentifyDeps = {
  cache: Cache;
  quota: ProviderQuota;
  gates: ProviderGates;
  clients: ProviderClients;
  /** Per provider, under its registry report key (config.providers). */
  settings: Readonly<Partial<Record<ProviderConfigKey, ProviderCallSettings>>>;
  logger: Logger;
  /** Shadow calls are made only while this says the provider is healthy (default: always). */
  shadowAllowed?: (provider: ProviderName) => boolean;
  /** Learns each provider's pace, so a synchronous request waits for a hanging provider briefly, not fully. */
  pace?: ProviderPace;
};

const LOCK_LEASE_MS = 3_000;

const NOT_SELECTED = { status: "skipped", cached: false, reason: "not_selected" } as const;

/**
 * The plan's calls in parallel (by default Plant.id, PlantNet and Plant.id's health assessment). Each answer
 * comes from the shared cache when it can; otherwise exactly one caller in the fleet spends quota and calls
 * through the provider's gate. Shadow calls start at the same time but are not waited for.
 */
export function createIdentifier(deps: IdentifyDeps) {
  type RunResult<T> = { answer: ProviderAnswer<T>; latencyMs: number | null };

  /** One span per provider answer (tracing on): which provider, how it answered, and whether from the cache. */
  const run = <T>(plan: CallPlan<T>, input: IdentifyInput, sent?: () => void): Promise<RunResult<T>> =>
    withSpan(`identify ${plan.provider}`, { "plant.provider": plan.provider }, async (span) => {
      const result = await answerFor(plan, input, sent);
      span?.setAttributes({
        "plant.provider.status": result.answer.status,
        "plant.cache.hit": result.answer.cached,
      });
      return result;
    });

  async function answerFor<T>(
    plan: CallPlan<T>,
    input: IdentifyInput,
    sent?: () => void,
  ): Promise<RunResult<T>> {
    const call = plan.call;
    if (!call)
      return { answer: { status: "skipped", cached: false, reason: "not_configured" }, latencyMs: null };
    let refused: ProviderAnswer<T> | undefined;
    let latencyMs: number | null = null;
    const value = await deps.cache.getOrLoad<T | undefined>(
      plan.provider,
      plan.key,
      plan.ttlSeconds,
      async () => {
        const openForSeconds = breakerOpenFor(deps.gates[plan.provider]);
        if (openForSeconds !== undefined) {
          // Refused at once: no waiting for the providers' copies, no quota spent on a call that is not made.
          refused = { status: "circuit_open", cached: false, retryAfterSeconds: openForSeconds };
          return undefined;
        }
        // Encoding first: an image that does not decode must never cost quota or reach a provider.
        const images = await input.providerImages();
        const quota = await deps.quota.take(plan.budget);
        if (!quota.ok) {
          refused = {
            status: "skipped",
            cached: false,
            reason: "quota_exhausted",
            retryAfterSeconds: quota.retryAfterSeconds,
          };
          return undefined;
        }
        const started = performance.now();
        const settled = deps.pace?.callStarted(plan.provider);
        const outcome = await callProvider(deps.gates[plan.provider], plan.timeoutMs, (signal) => {
          const answer = call(images, signal);
          sent?.();
          return answer;
        });
        settled?.(
          outcome.kind === "circuit_open"
            ? "not_sent"
            : outcome.kind === "failed" && isTimeout(outcome.error)
              ? "silent"
              : "answered",
        );
        if (outcome.kind !== "circuit_open") latencyMs = Math.round(performance.now() - started);
        if (outcome.kind === "ok") return outcome.value;
        if (outcome.kind === "circuit_open") {
          refused = { status: "circuit_open", cached: false, retryAfterSeconds: outcome.retryAfterSeconds };
        } else {
          deps.logger.warn({ provider: plan.provider, err: String(outcome.error) }, "provider call failed");
          refused = {
            status: "failed",
            cached: false,
            reason: isTimeout(outcome.error) ? "timeout" : "error",
            ...(outcome.retryAfterSeconds !== undefined
              ? { retryAfterSeconds: outcome.retryAfterSeconds }
              : {}),
          };
        }
        return undefined;
      },
      // The holder renews its lease while it works; a waiter calls by itself only if the holder died (its
      // lease ran out) or after twice the call's deadline, when something is badly wrong. Most photos are new,
      // so the first look also asks for the lock (the miss is the path a user waits on).
      { lockTtlMs: LOCK_LEASE_MS, waitDeadlineMs: 2 * plan.timeoutMs + LOCK_LEASE_MS, missLikely: true },
    );
    if (value === undefined)
      return { answer: refused ?? { status: "failed", cached: false, reason: "error" }, latencyMs };
    const called = latencyMs !== null;
    return {
      answer: { status: plan.isNoMatch?.(value) ? "no_match" : "ok", cached: !called, value },
      latencyMs,
    };
  }

  async function record(
    spec: CallSpec,
    input: IdentifyInput,
    wait?: Wait,
    sent?: () => void,
  ): Promise<CallRecord> {
    const def = PROVIDER_REGISTRY[spec.provider] as ProviderDefinition;
    const plan = planCall(deps, spec, input);
    let latencyMs: number | null = null;
    const running = run(plan, input, sent).then((r) => {
      latencyMs = r.latencyMs;
      return r.answer;
    });
    if (sent) running.then(sent, sent);
    // A shadow is never waited for by the user, so the synchronous wait does not apply to it.
    const pace = deps.pace;
    const paced = wait && pace ? { ...wait, stalled: () => pace.isStalled(spec.provider) } : wait;
    const answer = await within(spec.shadow ? undefined : paced, plan.timeoutMs, running);
    return {
      provider: spec.provider,
      wire: def.wire,
      modelId: spec.modelId,
      shadow: spec.shadow ?? false,
      settings: spec.settings ?? {},
      answer,
      latencyMs,
    };
  }

  return {
    async identify(given: IdentifyInput, plan: IdentifyPlan = DEFAULT_PLAN): Promise<IdentifyOutcome> {
      // The wait is for the providers: time spent encoding their copies (our own CPU) does not count against it.
      let encoding: Promise<number> | undefined;
      const input: IdentifyInput = {
        ...given,
        providerImages: () => {
          const images = given.providerImages();
          encoding ??= images.then(
            () => performance.now(),
            () => performance.now(),
          );
          return images;
        },
      };
      const wait: Wait | undefined =
        given.waitMs === undefined ? undefined : { ms: given.waitMs, encoding: () => encoding };
      const shown = plan.calls.filter((c) => !c.shadow && PROVIDER_REGISTRY[c.provider].role === "identify");
      const healthSpec = input.includeHealth
        ? PROVIDER_NAMES.find((n) => PROVIDER_REGISTRY[n].role === "health" && PROVIDER_REGISTRY[n].byDefault)
        : undefined;
      const specs: CallSpec[] = healthSpec ? [...shown, { provider: healthSpec }] : shown;
      const shadowSpecs = plan.calls.filter((c) => c.shadow && (deps.shadowAllowed?.(c.provider) ?? true));
      // Started now, with the same photos, but never awaited here: a slow shadow must not slow the user.
      const shadows = Promise.all(shadowSpecs.map((spec) => record(spec, input)));
      shadows.catch(() => {});
      const onDispatched = given.onDispatched;
      let unsent = specs.length;
      if (onDispatched && unsent === 0) onDispatched();
      const sentOnce = () => {
        let done = false;
        return () => {
          if (done) return;
          done = true;
          unsent -= 1;
          if (unsent === 0) onDispatched?.();
        };
      };
      const calls = await Promise.all(
        specs.map((spec) => record(spec, input, wait, onDispatched && sentOnce())),
      );
      const first = (wire: WireFormat) =>
        calls.find((c) => c.wire === wire && answered(c.answer))?.answer ??
        calls.find((c) => c.wire === wire)?.answer;
      return {
        plantId: (first("plant-id") ?? NOT_SELECTED) as ProviderAnswer<PlantIdIdentification>,
        plantnet: (first("plantnet") ?? NOT_SELECTED) as ProviderAnswer<PlantNetResult>,
        health: healthSpec ? (first("plant-id-health") as ProviderAnswer<PlantIdHealth>) : undefined,
        calls,
        shadows,
      };
    },
  };
}

/** Every identify provider marked byDefault, once, with its configured settings. */
export const DEFAULT_PLAN: IdentifyPlan = {
  calls: PROVIDER_NAMES.filter(
    (n) => PROVIDER_REGISTRY[n].role === "identify" && PROVIDER_REGISTRY[n].byDefault,
  ).map((provider) => ({ provider })),
};

export type Identifier = ReturnType<typeof createIdentifier>;

function isTimeout(error: unknown): boolean {
  const e = error as { kind?: unknown; name?: unknown } | null;
  return e?.kind === "timeout" || e?.name === "BreakerTimeoutError" || e?.name === "TimeoutError";
}

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
