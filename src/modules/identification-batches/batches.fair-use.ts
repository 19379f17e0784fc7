import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { identifyRateLimit } from "../../http/middleware/rate-limit.ts";
import { createRateLimiter, type RateDecision, retryAfterSeconds } from "../../infra/rate-limiter.ts";
import type { QueueCaller } from "../identifications/identifications.jobs.ts";
import { ensureProviderBudget } from "../identifications/provider-budget.ts";

type FairUseDeps = Pick<Deps, "config" | "redis" | "clock" | "logger" | "metrics">;

/**
 * A batch is as many identifications as it has photos: it needs room for all of them in the user's daily
 * provider budget, and each photo counts against the identification rate limit (the request itself only
 * counts once against the default limit). Checked after the upload is read, before anything is stored.
 */
export function batchFairUse(deps: FairUseDeps) {
  const limiter = createRateLimiter(deps.redis.cache, deps.config.redis.keyPrefix, () => deps.clock.now());
  return async (caller: QueueCaller, photos: number): Promise<void> => {
    // Read-only first: a refused batch must not spend rate-limit quota.
    await ensureProviderBudget(deps, caller, photos);
    const { policy, key } = identifyRateLimit(deps.config.rateLimits, caller.role, caller.clientKey);
    let decision: RateDecision;
    try {
      decision = await limiter.hit(policy, key, photos);
    } catch (err) {
      // As the rate-limit middleware: identification limits fail open while Redis is unavailable.
      deps.metrics.rateLimitErrors.inc({ policy: policy.name });
      deps.logger.warn({ err: String(err), policy: policy.name }, "batch photos not rate limited (redis)");
      return;
    }
    if (decision.allowed) return;
    deps.metrics.rateLimited.inc({ policy: policy.name });
    throw new AppError(
      "rate_limited",
      `Rate limit "${policy.name}" reached: this batch's ${photos} photos count as ${photos} identifications.`,
      { rateLimits: [decision], retryAfterSeconds: retryAfterSeconds(decision) },
    );
  };
}
