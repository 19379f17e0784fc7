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

const LUA_COMMON = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[5])
local function load()
  local v = redis.call('HMGET', KEYS[1], 'state', 'gen', 'openUntil', 'changedAt', 'consecutive', 'successes')
  return { state = v[1] or 'closed', gen = tonumber(v[2]) or 0, openUntil = tonumber(v[3]) or 0,
    changedAt = tonumber(v[4]) or 0, consecutive = tonumber(v[5]) or 0, successes = tonumber(v[6]) or 0 }
end
local function save(h)
  redis.call('HSET', KEYS[1], 'state', h.state, 'gen', h.gen, 'openUntil', h.openUntil, 'changedAt', h.changedAt,
    'consecutive', h.consecutive, 'successes', h.successes)
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local function move(h, to, reason)
  local from = h.state
  h.state, h.gen, h.changedAt, h.consecutive, h.successes = to, h.gen + 1, now, 0, 0
  if to == 'open' then h.openUntil = now + tonumber(ARGV[6]) end
  redis.call('DEL', KEYS[3])
  save(h)
  redis.call('PUBLISH', ARGV[3], cjson.encode({ breaker = ARGV[2], origin = ARGV[4], from = from, to = to,
    reason = reason, gen = h.gen, changedAt = now, openUntil = h.openUntil }))
  return { from, to, reason }
end
-- Buckets live in one hash as c:<epoch> / f:<epoch>; the same bucketing as breaker-window.ts.
local function window(bucketMs, buckets, record, failed)
  local epoch = math.floor(now / bucketMs)
  if record then
    redis.call('HINCRBY', KEYS[3], 'c:' .. epoch, 1)
    if failed then redis.call('HINCRBY', KEYS[3], 'f:' .. epoch, 1) end
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
  local calls, failures = 0, 0
  local fields = redis.call('HGETALL', KEYS[3])
  for i = 1, #fields, 2 do
    local kind, e = string.match(fields[i], '^(%a):(%d+)$')
    e = tonumber(e)
    if e == nil or e <= epoch - buckets then redis.call('HDEL', KEYS[3], fields[i])
    elseif kind == 'c' then calls = calls + tonumber(fields[i + 1])
    else failures = failures + tonumber(fields[i + 1]) end
  end
  return calls, failures
end
local function reply(h, allowed, retryIn, calls, failures, t)
  t = t or { '', '', '' }
  return { allowed, h.state, h.gen, h.changedAt, h.openUntil, h.consecutive, calls, failures, retryIn, t[1], t[2], t[3] }
end
`;

// ARGV: now, name, channel, instanceId, ttlMs, coolDownMs, maxProbes, leaseMs, probeId, bucketMs, buckets
const ACQUIRE_LUA = `${LUA_COMMON}
local h = load()
local t
if h.state == 'open' and now >= h.openUntil then t = move(h, 'half_open', 'cool-down elapsed') end
local allowed, retryIn = 1, 0
if h.state == 'open' then
  allowed, retryIn = 0, h.openUntil - now
elseif h.state == 'half_open' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    allowed, retryIn = 0, math.max(1, tonumber(first[2]) - now)
  else
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[8]), ARGV[9])
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
local calls, failures = window(tonumber(ARGV[10]), tonumber(ARGV[11]), false, false)
return reply(h, allowed, retryIn, calls, failures, t)
`;

// ARGV: now, name, channel, instanceId, ttlMs, coolDownMs, generation, probeId, failed,
//       consecutiveFailures, failureRatio, minimumCalls, bucketMs, buckets, halfOpenSuccesses
const RECORD_LUA = `${LUA_COMMON}
local h = load()
local heldLease = redis.call('ZREM', KEYS[2], ARGV[8]) == 1
local failed = ARGV[9] == '1'
local t
if tonumber(ARGV[7]) == h.gen then
  if h.state == 'closed' then
    local calls, failures = window(tonumber(ARGV[13]), tonumber(ARGV[14]), true, failed)
    if failed then h.consecutive = h.consecutive + 1 else h.consecutive = 0 end
    if h.consecutive >= tonumber(ARGV[10]) then
      t = move(h, 'open', h.consecutive .. ' consecutive failures')
    elseif calls >= tonumber(ARGV[12]) and failures / calls >= tonumber(ARGV[11]) then
      t = move(h, 'open', failures .. ' of ' .. calls .. ' calls failed')
    else
      save(h)
    end
  elseif h.state == 'half_open' and heldLease then
    if failed then
      t = move(h, 'open', 'probe failed')
    else
      h.successes = h.successes + 1
      if h.successes >= tonumber(ARGV[15]) then t = move(h, 'closed', h.successes .. ' probes succeeded') else save(h) end
    end
  end
end
local calls, failures = window(tonumber(ARGV[13]), tonumber(ARGV[14]), false, false)
return reply(h, 1, 0, calls, failures, t)
`;

type ScriptArg = string | number;
interface BreakerCommands {
  circuitBreakerAcquire(k1: string, k2: string, k3: string, ...argv: ScriptArg[]): Promise<unknown>;
  circuitBreakerRecord(k1: string, k2: string, k3: string, ...argv: ScriptArg[]): Promise<unknown>;
}

const withScripts = new WeakSet<Redis>();
function scriptsOn(redis: Redis): BreakerCommands {
  if (!withScripts.has(redis)) {
    redis.defineCommand("circuitBreakerAcquire", { numberOfKeys: 3, lua: ACQUIRE_LUA });
    redis.defineCommand("circuitBreakerRecord", { numberOfKeys: 3, lua: RECORD_LUA });
    withScripts.add(redis);
  }
  return redis as unknown as BreakerCommands;
}

interface FleetState {
  state: BreakerState;
  gen: number;
  changedAt: number;
  openUntil: number;
  consecutive: number;
  calls: number;
  failures: number;
}

interface ScriptReply extends FleetState {
  allowed: boolean;
  retryInMs: number;
  transition?: { from: BreakerState; to: BreakerState; reason: string };
}

function parseReply(raw: unknown): ScriptReply {
  const r = raw as [
    number,
    BreakerState,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    string,
    string,
    string,
  ];
  return {
    allowed: r[0] === 1,
    state: r[1],
    gen: Number(r[2]),
    changedAt: Number(r[3]),
    openUntil: Number(r[4]),
    consecutive: Number(r[5]),
    calls: Number(r[6]),
    failures: Number(r[7]),
    retryInMs: Number(r[8]),
    transition: r[10] ? { from: r[9] as BreakerState, to: r[10] as BreakerState, reason: r[11] } : undefined,
  };
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
    const onMessage = (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let event: Omit<FleetState, "state" | "consecutive" | "calls" | "failures"> & {
        to: BreakerState;
        origin: string;
        reason: string;
      };
      try {
        event = JSON.parse(message);
      } catch {
        return;
      }
      // Our own transitions were reported from the script reply; equal generations carry nothing new.
      if (event.origin === this.o.instanceId || event.gen <= this.mirror.gen) return;
      const { to, gen, changedAt, openUntil } = event;
      this.adoptFleetState(
        { state: to, gen, changedAt, openUntil, consecutive: 0, calls: 0, failures: 0 },
        event.reason,
        "peer",
      );
    };
    subscriber.on("message", onMessage);
    this.unsubscribe = async () => {
      subscriber.off("message", onMessage);
      await subscriber.unsubscribe(this.channel).catch(() => {});
    };
    // Decisions never wait on pub/sub, so a failed subscribe only delays other instances' news.
    await subscriber.subscribe(this.channel).catch(() => {});
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  // A real timer on purpose: this bounds real I/O, which a fake clock in tests must not be able to stall.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
