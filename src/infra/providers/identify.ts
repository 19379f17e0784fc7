import type { Cache } from "../cache.ts";
import type { Logger } from "../logger.ts";
import { withSpan } from "../tracing/spans.ts";
import type { PlantIdClient, PlantIdHealth, PlantIdIdentification } from "./plant-id.ts";
import type { PlantNetClient, PlantNetResult } from "./plantnet.ts";
import type { ProviderName } from "./provider-error.ts";
import { callProvider, type ProviderGate, type ProviderGates } from "./provider-gate.ts";
import type { ProviderQuota } from "./provider-quota.ts";

export type ProviderStatus = "ok" | "no_match" | "failed" | "skipped" | "circuit_open";

/** How one provider took part in an identification. `value` is present for ok (and PlantNet's no_match). */
export type ProviderAnswer<T> = {
  status: ProviderStatus;
  /** true when the answer came from the cache instead of a call made for this request. */
  cached: boolean;
  value?: T;
  reason?: "not_configured" | "quota_exhausted" | "error" | "timeout";
  /** When the provider may be usable again (skipped, circuit_open, failed with a hint). */
  retryAfterSeconds?: number;
};

export type IdentifyInput = {
  /** SHA-256 (hex) of each uploaded file, in order: with the options, the cache key. */
  imageHashes: readonly string[];
  /** The JPEGs (≤1024 px) the providers receive; only produced when some provider must really be called. */
  providerImages: () => Promise<Uint8Array[]>;
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

export type IdentifyOutcome = {
  plantId: ProviderAnswer<PlantIdIdentification>;
  plantnet: ProviderAnswer<PlantNetResult>;
  health: ProviderAnswer<PlantIdHealth> | undefined;
};

export type ProviderCallSettings = Readonly<{ timeoutMs: number; cacheTtlSeconds: number }>;

export type IdentifyDeps = {
  cache: Cache;
  quota: ProviderQuota;
  gates: ProviderGates;
  clients: { plantId: PlantIdClient | undefined; plantnet: PlantNetClient | undefined };
  settings: Readonly<{
    plantId: ProviderCallSettings & Readonly<{ healthTimeoutMs: number }>;
    plantnet: ProviderCallSettings & Readonly<{ project: string }>;
  }>;
  logger: Logger;
};

/** PlantNet options that change its answer; they are part of the cache key. */
const PLANTNET_LANG = "en";
const PLANTNET_RESULTS = 5;
const CACHE_KEY_VERSION = 1;
const LOCK_LEASE_MS = 3_000;

function cacheKey(parts: Record<string, unknown>): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(JSON.stringify({ v: CACHE_KEY_VERSION, ...parts }));
  return hasher.digest("hex");
}

type CallPlan<T> = {
  provider: ProviderName;
  /** Whose hourly/daily budget the call spends: health assessments are Plant.id credits too. */
  budget: "plant-id" | "plantnet";
  key: string;
  timeoutMs: number;
  ttlSeconds: number;
  call: ((images: Uint8Array[], signal: AbortSignal) => Promise<T>) | undefined;
  isNoMatch?: (value: T) => boolean;
};

/**
 * Plant.id and PlantNet (and Plant.id's health assessment) in parallel. Each answer comes from the shared
 * cache when it can; otherwise exactly one caller in the fleet spends quota and calls through the provider's gate.
 */
export function createIdentifier(deps: IdentifyDeps) {
  /** One span per provider answer (tracing on): which provider, how it answered, and whether from the cache. */
  const run = <T>(plan: CallPlan<T>, input: IdentifyInput): Promise<ProviderAnswer<T>> =>
    withSpan(`identify ${plan.provider}`, { "plant.provider": plan.provider }, async (span) => {
      const answer = await answerFor(plan, input);
      span?.setAttributes({ "plant.provider.status": answer.status, "plant.cache.hit": answer.cached });
      return answer;
    });

  async function answerFor<T>(plan: CallPlan<T>, input: IdentifyInput): Promise<ProviderAnswer<T>> {
    const call = plan.call;
    if (!call) return { status: "skipped", cached: false, reason: "not_configured" };
    let refused: ProviderAnswer<T> | undefined;
    let called = false;
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
        called = true;
        const outcome = await callProvider(deps.gates[plan.provider], plan.timeoutMs, (signal) =>
          call(images, signal),
        );
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
      // lease ran out) or after twice the call's deadline, when something is badly wrong.
      { lockTtlMs: LOCK_LEASE_MS, waitDeadlineMs: 2 * plan.timeoutMs + LOCK_LEASE_MS },
    );
    if (value === undefined) return refused ?? { status: "failed", cached: false, reason: "error" };
    return { status: plan.isNoMatch?.(value) ? "no_match" : "ok", cached: !called, value };
  }

  return {
    async identify(given: IdentifyInput): Promise<IdentifyOutcome> {
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
      const wait = given.waitMs === undefined ? undefined : { ms: given.waitMs, encoding: () => encoding };
      const { plantId, plantnet } = deps.clients;
      const s = deps.settings;
      const location = { latitude: input.latitude ?? null, longitude: input.longitude ?? null };
      const plantIdInput = (images: Uint8Array[]) => ({
        images,
        ...(input.latitude !== undefined ? { latitude: input.latitude } : {}),
        ...(input.longitude !== undefined ? { longitude: input.longitude } : {}),
      });

      const [plantIdAnswer, plantnetAnswer, health] = await Promise.all([
        within<PlantIdIdentification>(
          wait,
          s.plantId.timeoutMs,
          run<PlantIdIdentification>(
            {
              provider: "plant-id",
              budget: "plant-id",
              key: cacheKey({ images: input.imageHashes, ...location, similarImages: true }),
              timeoutMs: s.plantId.timeoutMs,
              ttlSeconds: s.plantId.cacheTtlSeconds,
              call: plantId && ((images, signal) => plantId.identify(plantIdInput(images), signal)),
            },
            input,
          ),
        ),
        within<PlantNetResult>(
          wait,
          s.plantnet.timeoutMs,
          run<PlantNetResult>(
            {
              provider: "plantnet",
              budget: "plantnet",
              key: cacheKey({
                images: input.imageHashes,
                organs: input.organs,
                project: s.plantnet.project,
                lang: PLANTNET_LANG,
                results: PLANTNET_RESULTS,
              }),
              timeoutMs: s.plantnet.timeoutMs,
              ttlSeconds: s.plantnet.cacheTtlSeconds,
              call:
                plantnet &&
                ((images, signal) =>
                  plantnet.identify(
                    {
                      images: images.map((bytes, i) => ({ bytes, organ: input.organs[i] ?? "auto" })),
                      lang: PLANTNET_LANG,
                      nbResults: PLANTNET_RESULTS,
                    },
                    signal,
                  )),
              isNoMatch: (value) => value.status === "no_match",
            },
            input,
          ),
        ),
        input.includeHealth
          ? within<PlantIdHealth>(
              wait,
              s.plantId.healthTimeoutMs,
              run<PlantIdHealth>(
                {
                  provider: "plant-id-health",
                  budget: "plant-id",
                  key: cacheKey({ images: input.imageHashes, ...location }),
                  timeoutMs: s.plantId.healthTimeoutMs,
                  ttlSeconds: s.plantId.cacheTtlSeconds,
                  call: plantId && ((images, signal) => plantId.assessHealth(plantIdInput(images), signal)),
                },
                input,
              ),
            )
          : undefined,
      ]);
      return { plantId: plantIdAnswer, plantnet: plantnetAnswer, health };
    },
  };
}

export type Identifier = ReturnType<typeof createIdentifier>;

/** `encoding`: when the providers' copies were requested, resolves with the moment they were ready. */
type Wait = { ms: number; encoding: () => Promise<number> | undefined };

/**
 * The answer if it comes within `wait.ms` (not counting the time the providers' copies took to encode), else
 * "failed: timeout" at once. The call is not abandoned: it keeps its single-flight lock and its own deadline,
 * and its answer lands in the cache for the retry that the Retry-After (the time the call may still take)
 * invites.
 */
function within<T>(
  wait: Wait | undefined,
  callTimeoutMs: number,
  answer: Promise<ProviderAnswer<T>>,
): Promise<ProviderAnswer<T>> {
  if (wait === undefined || wait.ms >= callTimeoutMs) return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  const expired = new Promise<ProviderAnswer<T>>((resolve) => {
    const expire = () =>
      resolve({
        status: "failed",
        cached: false,
        reason: "timeout",
        retryAfterSeconds: Math.max(1, Math.ceil((callTimeoutMs - wait.ms) / 1000)),
      });
    const check = () => {
      const encoding = wait.encoding();
      if (!encoding) return expire();
      // The providers get their full wait from the moment they had the images.
      encoding.then((readyAt) => {
        const left = readyAt + wait.ms - performance.now();
        if (settled) return;
        if (left <= 0) expire();
        else timer = setTimeout(expire, left);
      });
    };
    timer = setTimeout(check, wait.ms);
  });
  answer.catch(() => {});
  return Promise.race([answer, expired]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}

/** Seconds until an open breaker admits a call (a breaker gate exposes its snapshot), else undefined. */
function breakerOpenFor(gate: ProviderGate): number | undefined {
  const snapshot = (gate as Partial<{ snapshot(): { state: string; retryInMs: number } }>).snapshot?.();
  if (snapshot?.state !== "open" || snapshot.retryInMs <= 0) return undefined;
  return Math.max(1, Math.ceil(snapshot.retryInMs / 1000));
}

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
  outcome: IdentifyOutcome,
  fallbackSeconds = DEFAULT_RETRY_AFTER_SECONDS,
): number | undefined {
  if (answered(outcome.plantId) || answered(outcome.plantnet)) return undefined;
  const hints = [outcome.plantId, outcome.plantnet].map((a) => a.retryAfterSeconds ?? fallbackSeconds);
  return Math.max(1, Math.min(...hints));
}
