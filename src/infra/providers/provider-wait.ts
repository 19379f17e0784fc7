/** How long a synchronous identification waits for a provider, and whether its breaker refuses at once. */
import type { ProviderAnswer } from "./identify-contract.ts";
import type { ProviderGate } from "./provider-gate.ts";

/**
 * `encoding`: when the providers' copies were requested, resolves with the moment they were ready.
 * `stalled`: true once the provider has gone silent (provider-pace.ts); the wait then ends early.
 */
export type Wait = { ms: number; encoding: () => Promise<number> | undefined; stalled?: () => boolean };

/** How often a waiting request looks whether its provider has gone silent. */
const STALL_CHECK_MS = 100;

/**
 * The answer if it comes within `wait.ms` (not counting the time the providers' copies took to encode) and
 * before the provider is known to have gone silent, else "failed: timeout" at once. The call is not abandoned: it keeps its single-flight lock and its own deadline,
 * and its answer lands in the cache for the retry that the Retry-After (the time the call may still take)
 * invites.
 */
export function within<T>(
  wait: Wait | undefined,
  callTimeoutMs: number,
  answer: Promise<ProviderAnswer<T>>,
): Promise<ProviderAnswer<T>> {
  if (wait === undefined || (wait.ms >= callTimeoutMs && !wait.stalled)) return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
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
    if (wait.ms < callTimeoutMs) timer = setTimeout(check, wait.ms);
    const stalled = wait.stalled;
    if (stalled) {
      watch = setInterval(() => {
        if (stalled()) expire();
      }, STALL_CHECK_MS);
    }
  });
  answer.catch(() => {});
  return Promise.race([answer, expired]).finally(() => {
    settled = true;
    clearTimeout(timer);
    clearInterval(watch);
  });
}

/** Seconds until an open breaker admits a call (a breaker gate exposes its snapshot), else undefined. */
export function breakerOpenFor(gate: ProviderGate): number | undefined {
  const snapshot = gate.snapshot?.();
  if (snapshot?.state !== "open" || snapshot.retryInMs <= 0) return undefined;
  return Math.max(1, Math.ceil(snapshot.retryInMs / 1000));
}
