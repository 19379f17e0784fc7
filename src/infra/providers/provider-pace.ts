/**
 * Whether a provider has gone silent, learnt from how it answers (per provider, per process).
 *
 * A synchronous identification waits up to IDENTIFY_SYNC_WAIT_MS (default 3 s, sized for real providers, which
 * often take 1-3 s). When a provider hangs, every synchronous request used to hold its client for that whole
 * wait until the breaker opened (issue #10: p99 ≈ 3 s during a hanging-provider outage, target < 1.5 s). So a
 * provider counts as silent once no answer has come for longer than its stall threshold while a call was
 * waiting on it (a call running, or one that timed out, since its last answer); the threshold is a margin over
 * its recent latency: clamp(LATENCY_MARGIN × p95 of its last answers, FLOOR_MS, the configured wait), the
 * configured wait until MIN_SAMPLES answers are known. Requests waiting for a silent provider stop waiting
 * (provider-wait.ts checks every 100 ms) and are answered 503 + Retry-After at once; the calls themselves go
 * on (they notice the recovery and fill the cache) and the breakers still decide when to stop calling.
 * Only the provider's own silence counts: a request that waits for another's call (single flight), or for our
 * own encoding on a busy machine, still gets the whole configured wait while the provider keeps answering.
 * Any answer from the provider (success or an error it sent) ends the silence.
 */
import type { ProviderName } from "./registry.ts";

/** Recent answers kept per provider. */
const WINDOW = 64;
const MIN_SAMPLES = 10;
/** Waiting 3× the p95 leaves room for a provider's normal variance and a loaded machine. */
const LATENCY_MARGIN = 3;
/** Never cut a wait below this: short waits would turn ordinary jitter into 503s. */
const FLOOR_MS = 1_000;

type Watch = {
  latencies: number[];
  next: number;
  /** Start of the oldest call made since the last answer that has not answered (running or timed out). */
  silentSince: number | undefined;
};

export type ProviderPace = ReturnType<typeof createProviderPace>;

export type CallEnd = "answered" | "silent" | "not_sent";

export function createProviderPace(opts: {
  /** The configured wait (IDENTIFY_SYNC_WAIT_MS): what the metric reports the learnt wait against. */
  ceilingMs: number;
  now?: () => number;
  /** Told the learnt stall threshold whenever an answer changes it (metrics). */
  onWait?: (provider: ProviderName, waitMs: number) => void;
}) {
  const now = opts.now ?? (() => performance.now());
  const watches = new Map<ProviderName, Watch>();
  const watch = (provider: ProviderName): Watch => {
    let w = watches.get(provider);
    if (!w) {
      w = { latencies: [], next: 0, silentSince: undefined };
      watches.set(provider, w);
    }
    return w;
  };

  function threshold(w: Watch, ceilingMs: number): number {
    if (w.latencies.length < MIN_SAMPLES) return ceilingMs;
    const sorted = [...w.latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? ceilingMs;
    return Math.min(ceilingMs, Math.max(FLOOR_MS, Math.ceil(LATENCY_MARGIN * p95)));
  }

  return {
    /**
     * A call is about to be sent. The returned function is called when it settles: "answered" when the
     * provider answered (a result or an error of its own, a refused connection included), "silent" when the
     * deadline passed without an answer, "not_sent" when the breaker refused it before sending.
     */
    callStarted(provider: ProviderName): (end: CallEnd) => void {
      const w = watch(provider);
      const startedAt = now();
      w.silentSince ??= startedAt;
      return (end) => {
        if (end === "silent") return;
        if (end === "not_sent") {
          if (w.silentSince === startedAt) w.silentSince = undefined;
          return;
        }
        const latency = now() - startedAt;
        w.latencies[w.next] = latency;
        w.next = (w.next + 1) % WINDOW;
        // An answer ends the silence; calls started before it that are still running no longer count.
        w.silentSince = undefined;
        opts.onWait?.(provider, threshold(w, opts.ceilingMs));
      };
    },

    /** The provider's stall threshold now (ms), at most `ceilingMs`. */
    thresholdMs(provider: ProviderName, ceilingMs = opts.ceilingMs): number {
      const w = watches.get(provider);
      return w ? threshold(w, ceilingMs) : ceilingMs;
    },

    /** True while the provider has been silent for longer than its stall threshold. */
    isStalled(provider: ProviderName): boolean {
      const w = watches.get(provider);
      if (w?.silentSince === undefined) return false;
      return now() - w.silentSince > threshold(w, opts.ceilingMs);
    },
  };
}
