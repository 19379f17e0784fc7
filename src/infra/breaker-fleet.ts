/*
 * Fleet-wide circuit breaker.
 *
 * Why the state lives in Redis: a provider that is failing fails for every instance, and we promised that one
 * instance opening the breaker stops all of them within a second and that HALF_OPEN sends only the configured
 * number of probes fleet-wide. Mirrored local copies synchronised over pub/sub cannot give the probe bound
 * (two instances would each admit their own probe), so the decision itself is made in Redis: one Lua script
 * admits a call (and takes a probe slot atomically), another records its outcome and performs any transition.
 * A script is a single atomic step, so no two instances can both see a free slot or both reopen the breaker.
 *
 * Why the caller passes `now`: Redis TIME cannot be faked, and cool-downs must be testable without sleeping.
 * Instances' clocks differ by milliseconds, well below the cool-downs and leases involved.
 *
 * Why probe slots are leases (sorted set scored by expiry) rather than a counter: an instance that dies
 * mid-probe never reports back, and a counter would keep HALF_OPEN full forever. The lease is the call's
 * deadline plus a margin; a report that arrives after its lease was reclaimed is ignored, because the fleet
 * already moved on without it.
 *
 * Why pub/sub on top: decisions never depend on it (every call asks Redis), but it lets instances that are
 * not calling keep their `state`, snapshot and metrics current.
 *
 * Why a local fallback and not "closed" or "open": if Redis is unreachable, failing open would hammer a sick
 * provider from every instance and failing closed would take the feature down for a Redis blip. Each instance
 * runs its own CircuitBreaker, seeded with the last fleet state it saw, and retries Redis at most once per
 * `redisRetryMs`, so a hung Redis costs one bounded wait per interval instead of one per call. Outcomes seen
 * during the outage are not replayed into Redis: after recovery the shared state takes over again, and a still
 * failing provider reopens it within a few calls.
 *
 * Why outcomes are tagged with the state generation they were admitted in: a slow call admitted while CLOSED
 * must not count against the HALF_OPEN spell that follows.
 */
import type { Redis } from "ioredis";
import {
  type Breaker,
  BreakerOpenError,
  type BreakerOptions,
  type BreakerSettings,
  type BreakerSnapshot,
  type BreakerState,
  type CallOptions,
  CircuitBreaker,
  type LocalPermit,
  rejectCall,
  resolveBreakerOptions,
  runAdmitted,
} from "./breaker.ts";
import { followTransitions, withDeadline } from "./breaker-fleet-events.ts";
import {
  type BreakerCommands,
  type FleetState,
  parseReply,
  type ScriptArg,
  type ScriptReply,
  scriptsOn,
} from "./breaker-fleet-scripts.ts";
import { bucketSizeMs } from "./breaker-window.ts";

export interface CoordinationEvent {
  breaker: string;
  /** "local": Redis is unreachable and this instance decides alone; "fleet": shared state is back. */
  mode: "fleet" | "local";
  error?: unknown;
}

export interface FleetBreakerOptions extends BreakerOptions {
  /** Command connection; scripts are registered on it. */
  redis: Redis;
  /** Optional dedicated connection for pub/sub (a subscribed connection cannot run commands). */
  subscriber?: Redis;
  keyPrefix: string;
  instanceId?: string;
  /** Upper bound on any one Redis round trip before falling back to local state. */
  redisTimeoutMs?: number;
  /** While in fallback, how often one call tries Redis again. */
  redisRetryMs?: number;
  /** Added to the call's deadline to form a probe's lease. */
  probeLeaseMarginMs?: number;
  onCoordinationChange?: (event: CoordinationEvent) => void;
}

type Permit = { kind: "fleet"; gen: number; probeId: string } | { kind: "local"; permit: LocalPermit };

export class FleetBreaker implements Breaker {
  readonly name: string;
  /** Resolves once the transition channel is subscribed (immediately without a subscriber). */
  readonly ready: Promise<void>;
  private readonly s: BreakerSettings;
  private readonly o: Required<
    Pick<
      FleetBreakerOptions,
      "keyPrefix" | "instanceId" | "redisTimeoutMs" | "redisRetryMs" | "probeLeaseMarginMs"
    >
  >;
  private readonly scripts: BreakerCommands;
  private readonly keys: [string, string, string];
  private readonly channel: string;
  private readonly ttlMs: number;
  private readonly local: CircuitBreaker;
  private readonly createdAt: number;
  private mode: "fleet" | "local" = "fleet";
  private retryRedisAt = 0;
  private mirror: FleetState = {
    state: "closed",
    gen: -1,
    changedAt: 0,
    openUntil: 0,
    consecutive: 0,
    calls: 0,
    failures: 0,
  };
  private reported: BreakerState = "closed";
  private nextProbe = 0;
  private unsubscribe: () => Promise<void> = async () => {};

  constructor(private readonly options: FleetBreakerOptions) {
    const {
      redis,
      subscriber,
      keyPrefix,
      instanceId,
      redisTimeoutMs,
      redisRetryMs,
      probeLeaseMarginMs,
      ...breakerOptions
    } = options;
    this.s = resolveBreakerOptions(breakerOptions);
    this.name = this.s.name;
    this.o = {
      keyPrefix,
      instanceId: instanceId ?? crypto.randomUUID(),
      redisTimeoutMs: redisTimeoutMs ?? 250,
      redisRetryMs: redisRetryMs ?? 1_000,
      probeLeaseMarginMs: probeLeaseMarginMs ?? 1_000,
    };
    const base = `${keyPrefix}{${this.name}}`;
    this.keys = [`${base}:state`, `${base}:probes`, `${base}:window`];
    this.channel = `${base}:transitions`;
    this.ttlMs = Math.max(86_400_000, 2 * (this.s.coolDownMs + this.s.windowMs));
    this.scripts = scriptsOn(redis);
    this.createdAt = this.s.clock.now();
    this.local = new CircuitBreaker({
      ...breakerOptions,
      onCall: undefined,
      onStateChange: (e) => this.report(e.to, `local fallback: ${e.reason}`, "self"),
    });
    this.ready = subscriber ? this.subscribe(subscriber) : Promise.resolve();
  }

  get state(): BreakerState {
    return this.mode === "local" ? this.local.state : this.mirror.state;
  }

  async call<T>(fn: (signal: AbortSignal) => Promise<T>, { timeoutMs }: CallOptions): Promise<T> {
    let permit: Permit;
    try {
      permit = await this.acquire(timeoutMs);
    } catch (error) {
      return rejectCall(this.s, error);
    }
    return runAdmitted(this.s, fn, timeoutMs, (failed) => this.release(permit, failed));
  }

  snapshot(): BreakerSnapshot {
    if (this.mode === "local") return { ...this.local.snapshot(), coordination: "local" };
    const m = this.mirror;
    return {
      name: this.name,
      state: m.state,
      consecutiveFailures: m.consecutive,
      windowCalls: m.calls,
      windowFailures: m.failures,
      lastChangeAt: m.changedAt || this.createdAt,
      retryInMs: m.state === "open" ? Math.max(0, m.openUntil - this.s.clock.now()) : 0,
      coordination: "fleet",
    };
  }

  /** Stops listening for other instances' transitions. Shared Redis state is left for the others. */
  close(): Promise<void> {
    return this.unsubscribe();
  }

  private async acquire(timeoutMs: number): Promise<Permit> {
    const now = Math.floor(this.s.clock.now());
    if (this.mode === "fleet" || now >= this.retryRedisAt) {
      if (this.mode === "local") this.retryRedisAt = now + this.o.redisRetryMs;
      const probeId = `${this.o.instanceId}:${this.nextProbe++}`;
      const bucketMs = bucketSizeMs(this.s.windowMs, this.s.windowBuckets);
      const extra = [
        this.s.halfOpenMaxProbes,
        timeoutMs + this.o.probeLeaseMarginMs,
        probeId,
        bucketMs,
        this.s.windowBuckets,
      ];
      const reply = await this.run(this.scripts.circuitBreakerAcquire.bind(this.scripts), now, extra);
      if (reply) {
        if (!reply.allowed)
          throw new BreakerOpenError(
            this.name,
            reply.retryInMs,
            reply.state === "open" ? "open" : "half_open",
          );
        return { kind: "fleet", gen: reply.gen, probeId };
      }
    }
    return { kind: "local", permit: this.local.acquire(timeoutMs) };
  }

  private async release(permit: Permit, failed: boolean): Promise<void> {
    if (permit.kind === "local") return this.local.release(permit.permit, failed);
    const s = this.s;
    const bucketMs = bucketSizeMs(s.windowMs, s.windowBuckets);
    const extra = [
      permit.gen,
      permit.probeId,
      failed ? 1 : 0,
      s.consecutiveFailures,
      s.failureRatio,
      s.minimumCalls,
      bucketMs,
      s.windowBuckets,
      s.halfOpenSuccesses,
    ];
    // A lost report is tolerated: the probe's lease expires and closed-state counts are only statistics.
    await this.run(this.scripts.circuitBreakerRecord.bind(this.scripts), Math.floor(s.clock.now()), extra);
  }

  /** Runs one script with a hard deadline; on any Redis error switches to local decisions and returns undefined. */
  private async run(
    script: BreakerCommands["circuitBreakerAcquire"],
    now: number,
    extra: ScriptArg[],
  ): Promise<ScriptReply | undefined> {
    const [k1, k2, k3] = this.keys;
    const argv = [now, this.name, this.channel, this.o.instanceId, this.ttlMs, this.s.coolDownMs, ...extra];
    let reply: ScriptReply;
    try {
      reply = parseReply(await withDeadline(script(k1, k2, k3, ...argv), this.o.redisTimeoutMs));
    } catch (error) {
      this.enterFallback(error, now);
      return undefined;
    }
    const recovered = this.mode === "local";
    if (recovered) {
      this.mode = "fleet";
      this.options.onCoordinationChange?.({ breaker: this.name, mode: "fleet" });
    }
    const origin = reply.transition || recovered ? "self" : "peer";
    const reason =
      reply.transition?.reason ??
      (recovered ? "Redis reachable again: following the fleet state" : "changed by another instance");
    this.adoptFleetState(reply, reason, origin);
    return reply;
  }

  private enterFallback(error: unknown, now: number): void {
    this.retryRedisAt = now + this.o.redisRetryMs;
    if (this.mode === "local") return;
    this.mode = "local";
    const m = this.mirror;
    this.local.adopt(m.state, m.state === "open" ? m.openUntil - now : 0);
    this.options.onCoordinationChange?.({ breaker: this.name, mode: "local", error });
  }

  private adoptFleetState(next: FleetState, reason: string, origin: "self" | "peer"): void {
    if (next.gen < this.mirror.gen) return; // older news than what we hold
    this.mirror = {
      state: next.state,
      gen: next.gen,
      changedAt: next.changedAt,
      openUntil: next.openUntil,
      consecutive: next.consecutive,
      calls: next.calls,
      failures: next.failures,
    };
    if (this.mode === "fleet") this.report(next.state, reason, origin);
  }

  private report(to: BreakerState, reason: string, origin: "self" | "peer"): void {
    const from = this.reported;
    if (from === to) return;
    this.reported = to;
    this.s.onStateChange?.({ breaker: this.name, from, to, reason, origin });
  }

  private async subscribe(subscriber: Redis): Promise<void> {
    const following = followTransitions(subscriber, this.channel, (event) => {
      // Our own transitions were reported from the script reply; equal generations carry nothing new.
      if (event.origin === this.o.instanceId || event.gen <= this.mirror.gen) return;
      const { to, gen, changedAt, openUntil } = event;
      this.adoptFleetState(
        { state: to, gen, changedAt, openUntil, consecutive: 0, calls: 0, failures: 0 },
        event.reason,
        "peer",
      );
    });
    this.unsubscribe = following.stop;
    await following.subscribed;
  }
}
