import { AsyncLocalStorage } from "node:async_hooks";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { type ProviderGate, wrapGate } from "./provider-gate.ts";

/**
 * Per-user daily provider budget: every provider call (whichever provider, a cache hit is no call) counts
 * against the user on whose behalf it is made, per UTC day, beside the global per-provider budgets
 * (provider-quota.ts). Who that user is travels with the work in an AsyncLocalStorage set by the request
 * (route policy `providerBudget()`) or by the job, so the identification code needs no user argument and the
 * count does not depend on which providers exist.
 */
const spender = new AsyncLocalStorage<{ userId: string }>();

/** Runs `fn` with provider calls inside it counted against `userId`. */
export function spendingFor<T>(userId: string, fn: () => T): T {
  return spender.run({ userId }, fn);
}

const DAY_MS = 86_400_000;

/** Seconds until the next UTC midnight (at least 1): when a spent daily budget is available again. */
export function secondsToNextUtcDay(now: number): number {
  return Math.max(1, Math.ceil(((Math.floor(now / DAY_MS) + 1) * DAY_MS - now) / 1000));
}

export type UserProviderBudget = ReturnType<typeof createUserProviderBudget>;

export function createUserProviderBudget(opts: {
  redis: Redis;
  keyPrefix: string;
  now: () => number;
  logger: Logger;
}) {
  const keyOf = (userId: string) => `${opts.keyPrefix}ubudget:${userId}:${Math.floor(opts.now() / DAY_MS)}`;
  return {
    /** Calls counted today for the user; 0 when Redis cannot say (a Redis outage never blocks identification). */
    async used(userId: string): Promise<number> {
      try {
        return Number((await opts.redis.get(keyOf(userId))) ?? 0);
      } catch (err) {
        opts.logger.warn({ err: String(err) }, "per-user provider budget not read: Redis unavailable");
        return 0;
      }
    },
    async count(userId: string): Promise<void> {
      const key = keyOf(userId);
      try {
        await opts.redis
          .multi()
          .incr(key)
          .pexpire(key, 2 * DAY_MS)
          .exec();
      } catch (err) {
        opts.logger.warn({ err: String(err) }, "per-user provider call not counted: Redis unavailable");
      }
    },
  };
}

/** Each gate of the record counts the calls it admits against the current spender, if there is one. */
export function userBudgetGates<G extends Readonly<Record<string, ProviderGate>>>(
  gates: G,
  budget: Pick<UserProviderBudget, "count">,
): G {
  const wrap = (gate: ProviderGate): ProviderGate =>
    wrapGate(gate, (fn, options) =>
      gate.call(async (signal) => {
        // Inside the gate: a call an open breaker refuses costs the user nothing. Counted while the call goes
        // out, not before it: the count never fails (a Redis outage only logs), so waiting for it only delays
        // the provider call by a round trip.
        const who = spender.getStore();
        if (!who) return fn(signal);
        const counted = budget.count(who.userId);
        try {
          return await fn(signal);
        } finally {
          await counted;
        }
      }, options),
    );
  return Object.fromEntries(Object.entries(gates).map(([name, gate]) => [name, wrap(gate)])) as G;
}
