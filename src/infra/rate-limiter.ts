import type { Redis } from "ioredis";

/**
 * Sliding-window counter (the approach Cloudflare describes), chosen over the alternatives:
 * - a fixed window lets a client spend 2x its quota around a window boundary (5 logins at 14:59, 5 at 15:00);
 * - a sliding log is exact but keeps one entry per request (600 per client per minute for the default policy);
 * - GCRA is O(1) and smooth but does not mean "N per window", which is what our policies and the IETF
 *   `RateLimit-Policy` header say.
 * Two counters per key (this window and the previous one); the previous one is weighted by how much of it still
 * overlaps the sliding window. O(1) memory, one atomic Lua call, and Retry-After is computed exactly for the
 * estimate: the earliest moment the estimate leaves room for the request. Refused requests are not counted, so
 * a client that waits Retry-After gets in.
 * Time is the caller's clock (passed in), so every instance and the tests agree on the windows.
 */
const SLIDING_WINDOW = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local elapsed = now % window
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local estimate = prev * (window - elapsed) / window + cur
if estimate + cost <= limit then
  if cost > 0 then
    redis.call('INCRBY', KEYS[1], cost)
    redis.call('PEXPIRE', KEYS[1], window * 2)
  end
  return {1, math.floor(limit - estimate - cost), window - elapsed}
end
if cost > limit then return {0, 0, window * 2 - elapsed} end
local room = limit - cost - cur
if prev > 0 and room > 0 then
  local at = window * (1 - room / prev)
  return {0, 0, math.ceil(at - elapsed)}
end
-- This window alone is full: wait into the next one until this window's weight has decayed enough.
local at = 0
if cur > 0 then at = window * (1 - (limit - cost) / cur) end
if at < 0 then at = 0 end
return {0, 0, math.ceil(window - elapsed + at)}
`;

export type RatePolicy = { name: string; limit: number; windowSeconds: number };

export type RateDecision = {
  allowed: boolean;
  policy: RatePolicy;
  remaining: number;
  /** Allowed: ms until the current window ends. Refused: ms until the request would be admitted. */
  resetMs: number;
};

type WithCommand = Redis & {
  pcSlidingWindow(
    cur: string,
    prev: string,
    limit: number,
    windowMs: number,
    now: number,
    cost: number,
  ): Promise<[number, number, number]>;
};

export type RateLimiter = ReturnType<typeof createRateLimiter>;

export function createRateLimiter(redis: Redis, keyPrefix: string, now: () => number) {
  const client = redis as WithCommand;
  if (typeof client.pcSlidingWindow !== "function") {
    redis.defineCommand("pcSlidingWindow", { numberOfKeys: 2, lua: SLIDING_WINDOW });
  }

  /** Counts one request for `identity` under `policy`. Throws when Redis is unreachable: the caller decides. */
  async function hit(policy: RatePolicy, identity: string, cost = 1): Promise<RateDecision> {
    const windowMs = policy.windowSeconds * 1000;
    const at = now();
    const index = Math.floor(at / windowMs);
    const base = `${keyPrefix}rl:${policy.name}:${identity}`;
    const [allowed, remaining, resetMs] = await client.pcSlidingWindow(
      `${base}:${index}`,
      `${base}:${index - 1}`,
      policy.limit,
      windowMs,
      at,
      cost,
    );
    return {
      allowed: allowed === 1,
      policy,
      remaining: Math.max(0, remaining),
      resetMs: Math.max(0, resetMs),
    };
  }

  return { hit, peek: (policy: RatePolicy, identity: string) => hit(policy, identity, 0) };
}

/** Whole seconds, at least 1: a client that waits this long is admitted (unless others spend the quota first). */
export function retryAfterSeconds(decision: RateDecision): number {
  return Math.max(1, Math.ceil(decision.resetMs / 1000));
}
