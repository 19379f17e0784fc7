import type { RateDecision } from "../infra/rate-limiter.ts";

/**
 * IETF draft-ietf-httpapi-ratelimit-headers (-08 and later) as Structured Field lists, one member per policy:
 *   RateLimit-Policy: "default";q=600;w=60
 *   RateLimit: "default";r=599;t=42
 * `q` quota, `w` window (s), `r` remaining, `t` seconds until the quota frees up.
 */
export function rateLimitHeaders(decisions: RateDecision[]): Record<string, string> {
  if (decisions.length === 0) return {};
  // One policy (every request but a batch): no arrays to map and join on the hot path (issue #17).
  if (decisions.length === 1) {
    const d = decisions[0]!;
    return {
      "RateLimit-Policy": `"${d.policy.name}";q=${d.policy.limit};w=${d.policy.windowSeconds}`,
      RateLimit: `"${d.policy.name}";r=${d.remaining};t=${Math.ceil(d.resetMs / 1000)}`,
    };
  }
  return {
    "RateLimit-Policy": decisions
      .map((d) => `"${d.policy.name}";q=${d.policy.limit};w=${d.policy.windowSeconds}`)
      .join(", "),
    RateLimit: decisions
      .map((d) => `"${d.policy.name}";r=${d.remaining};t=${Math.ceil(d.resetMs / 1000)}`)
      .join(", "),
  };
}
