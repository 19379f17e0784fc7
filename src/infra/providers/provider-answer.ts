import type { Cache } from "../cache.ts";
import type { Logger } from "../logger.ts";
import { withSpan } from "../tracing/spans.ts";
import type { CallPlan } from "./call-plan.ts";
import type { IdentifyInput, ProviderAnswer } from "./identify-contract.ts";
import { callProvider, type ProviderGates } from "./provider-gate.ts";
import type { ProviderPace } from "./provider-pace.ts";
import type { ProviderQuota } from "./provider-quota.ts";
import { breakerOpenFor } from "./provider-wait.ts";

const LOCK_LEASE_MS = 3_000;

export type RunResult<T> = { answer: ProviderAnswer<T>; latencyMs: number | null };

/** What answering needs: the shared cache, the quotas, each provider's gate (breaker) and pace, a logger. */
export type AnswerDeps = {
  cache: Cache;
  quota: ProviderQuota;
  gates: ProviderGates;
  logger: Logger;
  pace?: ProviderPace;
};

/**
 * One provider's answer for one planned call, from the shared cache when it can; otherwise exactly one caller in
 * the fleet spends quota and calls through the provider's gate. One span per answer (tracing on): which
 * provider, how it answered, and whether from the cache.
 */
export const providerAnswer = <T>(
  deps: AnswerDeps,
  plan: CallPlan<T>,
  input: IdentifyInput,
  sent?: () => void,
): Promise<RunResult<T>> =>
  withSpan(`identify ${plan.provider}`, { "plant.provider": plan.provider }, async (span) => {
    const result = await answerFor(deps, plan, input, sent);
    span?.setAttributes({
      "plant.provider.status": result.answer.status,
      "plant.cache.hit": result.answer.cached,
    });
    return result;
  });

async function answerFor<T>(
  deps: AnswerDeps,
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

function isTimeout(error: unknown): boolean {
  const e = error as { kind?: unknown; name?: unknown } | null;
  return e?.kind === "timeout" || e?.name === "BreakerTimeoutError" || e?.name === "TimeoutError";
}
