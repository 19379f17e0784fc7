import { createMiddleware } from "hono/factory";
import type { Config } from "../../config/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { AppEnv } from "../../http/context.ts";
import type { Role } from "../../http/scopes.ts";
import {
  createUserProviderBudget,
  secondsToNextUtcDay,
  spendingFor,
  type UserProviderBudget,
} from "../../infra/providers/user-budget.ts";

const budgets = new WeakMap<object, UserProviderBudget>();

/** The per-user budget counter of these deps (one per app or worker). */
export function userProviderBudget(
  deps: Pick<Deps, "redis" | "config" | "clock" | "logger">,
): UserProviderBudget {
  let budget = budgets.get(deps.redis.cache);
  if (!budget) {
    budget = createUserProviderBudget({
      redis: deps.redis.cache,
      keyPrefix: deps.config.redis.keyPrefix,
      now: () => deps.clock.now(),
      logger: deps.logger,
    });
    budgets.set(deps.redis.cache, budget);
  }
  return budget;
}

/**
 * Refuses (429 `provider_budget_exhausted`, Retry-After to the next UTC day) when `identifications` more
 * would pass the user's daily provider budget: each needs at least one provider call. 0 = no budget.
 */
export async function ensureProviderBudget(
  deps: Pick<Deps, "redis" | "config" | "clock" | "logger">,
  caller: { userId: string; role: Role },
  identifications: number,
): Promise<void> {
  const limit = budgetOf(deps.config, caller.role);
  if (limit === 0) return;
  const used = await userProviderBudget(deps).used(caller.userId);
  if (used + identifications <= limit) return;
  throw new AppError(
    "provider_budget_exhausted",
    `Your daily identification budget (${limit} provider calls, ${used} used today) is spent` +
      (identifications > 1 ? ` or too small for ${identifications} photos` : "") +
      "; it renews at midnight UTC.",
    { retryAfterSeconds: secondsToNextUtcDay(deps.clock.now()) },
  );
}

export function budgetOf(config: Pick<Config, "userProviderBudgets">, role: Role): number {
  return config.userProviderBudgets[role];
}

/**
 * Route policy for routes that call the providers: refuses a user whose daily budget is spent, and counts every
 * provider call made while the request runs against that user. Put after `protect(...)`.
 */
export function providerBudget() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = c.var.auth;
    if (!auth) return next();
    await ensureProviderBudget(c.var.deps, { userId: auth.userId, role: auth.role }, 1);
    await spendingFor(auth.userId, next);
  });
}
