import type { RateDecision, RateLimiter, RatePolicy } from "./rate-limiter.ts";

/**
 * Local pre-check in front of the shared limiter (issue #17): a caller far below its limit is admitted by this
 * instance without a Redis round trip, and those admissions are counted in Redis shortly after.
 *
 * Rules (the "bounded overshoot" the README documents):
 * - only for the policies the caller marks eligible (the middleware: the default policy, never login,
 *   e-mails or identifications), after a shared decision that left at least half the limit, within the same
 *   window, for at most `syncMs`, and never when `share × limit` is below one request;
 * - each instance admits at most `floor(share × limit)` requests per caller between two shared counts, so
 *   the fleet admits at most `instances × share × limit` more than the limit while the counts catch up
 *   (2 % of the limit per instance by default: 12 of 600 a minute);
 * - admissions made locally are added to the shared count by the caller's next shared decision or by the
 *   background flush every `syncMs`, whichever comes first. A flush refused because other instances spent the
 *   quota meanwhile is dropped: that is the overshoot above, never more.
 */
export type LocalPrecheck = ReturnType<typeof createLocalPrecheck>;

type Entry = {
  policy: RatePolicy;
  windowIndex: number;
  /** Left after the last shared decision, and when that decision's window resets. */
  remaining: number;
  resetAt: number;
  syncedAt: number;
  /** Admitted here since the last shared decision; `pending` of them are not yet in the shared count. */
  admitted: number;
  pending: number;
  budget: number;
};

const MAX_ENTRIES = 10_000;

export function createLocalPrecheck(
  limiter: RateLimiter,
  opts: { share: number; syncMs?: number; now: () => number },
) {
  const syncMs = opts.syncMs ?? 1_000;
  const entries = new Map<string, Entry>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const budgetOf = (policy: RatePolicy) => Math.floor(policy.limit * opts.share);
  const windowOf = (policy: RatePolicy, at: number) => Math.floor(at / (policy.windowSeconds * 1000));

  function flush(key: string, entry: Entry) {
    if (entry.pending === 0) return;
    const cost = entry.pending;
    entry.pending = 0;
    limiter.hit(entry.policy, key, cost).catch(() => {
      // Redis unreachable: these admissions stay uncounted (bounded by the budget); the next request's shared
      // call fails too and the middleware applies its outage rule.
    });
  }

  function sweep() {
    const at = opts.now();
    for (const [key, entry] of entries) {
      flush(key, entry);
      if (at - entry.syncedAt >= 2 * syncMs) entries.delete(key);
    }
    if (entries.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    /** A decision without Redis when the caller is far below its limit; undefined to ask the shared limiter. */
    tryLocal(policy: RatePolicy, key: string): RateDecision | undefined {
      const entry = entries.get(key);
      if (!entry || entry.policy.name !== policy.name || entry.admitted >= entry.budget) return undefined;
      const at = opts.now();
      if (at - entry.syncedAt >= syncMs || windowOf(policy, at) !== entry.windowIndex) return undefined;
      entry.admitted++;
      entry.pending++;
      return {
        allowed: true,
        policy,
        remaining: Math.max(0, entry.remaining - entry.admitted),
        resetMs: Math.max(0, entry.resetAt - at),
      };
    },

    /** The shared decision for this request; local admissions not yet counted ride along in the same round trip. */
    async hitShared(policy: RatePolicy, key: string, eligible: boolean): Promise<RateDecision> {
      const previous = entries.get(key);
      if (previous) flush(key, previous); // auto-pipelined with the hit below: one round trip
      const decision = await limiter.hit(policy, key);
      const budget = eligible ? budgetOf(policy) : 0;
      const at = opts.now();
      if (!decision.allowed || budget < 1 || decision.remaining < policy.limit / 2) {
        const stale = entries.get(key);
        if (stale) stale.budget = 0; // no more local admissions; its pending ones are still flushed
        return decision;
      }
      if (!entries.has(key) && entries.size >= MAX_ENTRIES) return decision;
      const current = entries.get(key);
      entries.set(key, {
        policy,
        windowIndex: windowOf(policy, at),
        remaining: decision.remaining,
        resetAt: at + decision.resetMs,
        syncedAt: at,
        admitted: 0,
        // Admitted locally by concurrent requests while this one waited: still to be counted.
        pending: current?.pending ?? 0,
        budget,
      });
      timer ??= setInterval(sweep, syncMs);
      timer.unref?.();
      return decision;
    },

    /** Counts every local admission now (shutdown). */
    flushAll() {
      for (const [key, entry] of entries) flush(key, entry);
    },
  };
}
