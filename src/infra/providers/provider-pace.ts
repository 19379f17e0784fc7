/**
 * How long a synchronous identification should wait for each provider, learnt from how the provider answers.
 *
 * The configured wait (IDENTIFY_SYNC_WAIT_MS, default 3 s) is a ceiling sized for real providers, which often
 * take 1-3 s. Waiting the whole ceiling for a provider that usually answers in 300 ms only makes an outage slow
 * to notice: when a provider hangs, every synchronous request would hold its client for the full ceiling until
 * the breaker opens (issue #10: p99 ≈ 3 s during a hanging-provider outage, target < 1.5 s). So, per provider
 * and per process:
 * - the wait is a margin over the provider's recent latency: clamp(LATENCY_MARGIN × p95 of its last answers,
 *   FLOOR_MS, ceiling); with fewer than MIN_SAMPLES answers it is the ceiling;
 * - once the provider has been silent longer than that wait (a call in flight, or timed out, and no answer
 *   since it started), new requests wait only STALLED_GRACE_MS: the provider is hanging, and the request is
 *   answered 503 + Retry-After at once instead of after the wait. The call is still made (it is the probe that
 *   notices the recovery and fills the cache) and the breaker still decides when to stop calling.
 * Any answer from the provider (success or an error it sent) ends the silence. Only a deadline passing
 * without an answer, or a call still running, counts as silence.
 */
import type { ProviderName } from "./registry.ts";

/** Recent answers kept per provider. */
const WINDOW = 64;
const MIN_SAMPLES = 10;
/** Waiting 3× the p95 leaves room for a provider's normal variance and a loaded machine. */
const LATENCY_MARGIN = 3;
/** Never cut a wait below this: short waits would turn ordinary jitter into 503s. */
const FLOOR_MS = 1_000;
/** A hanging provider still gets this long: an answer already on its way is taken. */
const STALLED_GRACE_MS = 100;

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
  /** Told the learnt wait whenever an answer changes it (metrics). */
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

  function learntWait(w: Watch, ceilingMs: number): number {
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
        opts.onWait?.(provider, learntWait(w, opts.ceilingMs));
      };
    },

    /** How long a synchronous request should wait for this provider now (ms), at most `ceilingMs`. */
    waitFor(provider: ProviderName, ceilingMs = opts.ceilingMs): number {
      const w = watches.get(provider);
      if (!w) return ceilingMs;
      const wait = learntWait(w, ceilingMs);
      const silentFor = w.silentSince === undefined ? 0 : now() - w.silentSince;
      return silentFor > wait ? Math.min(wait, STALLED_GRACE_MS) : wait;
    },
  };
}
