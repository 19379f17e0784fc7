import { RollingWindow } from "./breaker-window.ts";
import { type Clock, systemClock } from "./clock.ts";

export type BreakerState = "closed" | "open" | "half_open";

/** Values for the `circuit_breaker_state` gauge. */
export const breakerStateGaugeValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface StateChangeEvent {
  breaker: string;
  from: BreakerState;
  to: BreakerState;
  reason: string;
  /** "peer": another instance made the transition and this one learned of it (count transitions on "self" only). */
  origin: "self" | "peer";
}

export interface CallEvent {
  breaker: string;
  result: "success" | "failure" | "rejected";
  durationMs: number;
}

export interface BreakerSnapshot {
  name: string;
  state: BreakerState;
  consecutiveFailures: number;
  windowCalls: number;
  windowFailures: number;
  lastChangeAt: number;
  /** 0 when a call would be admitted now. */
  retryInMs: number;
  /** Fleet breakers only: "local" while Redis is unreachable and this instance decides alone. */
  coordination?: "fleet" | "local";
}

/** `timeoutMs`: deadline for the whole call; the signal passed to `fn` aborts when it passes. */
export interface CallOptions {
  timeoutMs: number;
}

export interface Breaker {
  readonly name: string;
  readonly state: BreakerState;
  call<T>(fn: (signal: AbortSignal) => Promise<T>, options: CallOptions): Promise<T>;
  snapshot(): BreakerSnapshot;
}

export interface BreakerOptions {
  name: string;
  /**
   * Which errors mean the dependency is unhealthy (default: all). Other errors are rethrown to the caller but
   * recorded as successes, also as half-open probes: an answer like "species not found" proves the provider is up.
   */
  isFailure?: (error: unknown) => boolean;
  consecutiveFailures?: number;
  failureRatio?: number;
  minimumCalls?: number;
  windowMs?: number;
  windowBuckets?: number;
  coolDownMs?: number;
  halfOpenMaxProbes?: number;
  halfOpenSuccesses?: number;
  clock?: Clock;
  onStateChange?: (event: StateChangeEvent) => void;
  onCall?: (event: CallEvent) => void;
}

export type BreakerSettings = Required<Omit<BreakerOptions, "onStateChange" | "onCall">> &
  Pick<BreakerOptions, "onStateChange" | "onCall">;

export const breakerDefaults = {
  isFailure: () => true,
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minimumCalls: 10,
  windowMs: 30_000,
  windowBuckets: 10,
  coolDownMs: 60_000,
  halfOpenMaxProbes: 1,
  halfOpenSuccesses: 2,
  clock: systemClock,
} satisfies Omit<BreakerSettings, "name">;

export function resolveBreakerOptions(options: BreakerOptions): BreakerSettings {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const s: BreakerSettings = { ...breakerDefaults, ...given, name: options.name };
  for (const key of [
    "consecutiveFailures",
    "minimumCalls",
    "windowMs",
    "windowBuckets",
    "halfOpenMaxProbes",
    "halfOpenSuccesses",
  ] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1)
      throw new RangeError(`breaker ${s.name}: ${key} must be a positive integer`);
  }
  if (!Number.isInteger(s.coolDownMs) || s.coolDownMs < 0)
    throw new RangeError(`breaker ${s.name}: coolDownMs must be >= 0`);
  if (!(s.failureRatio > 0 && s.failureRatio <= 1))
    throw new RangeError(`breaker ${s.name}: failureRatio must be in (0, 1]`);
  return s;
}

export class BreakerOpenError extends Error {
  override readonly name = "BreakerOpenError";
  constructor(
    readonly breaker: string,
    readonly retryInMs: number,
    readonly state: "open" | "half_open",
  ) {
    super(`circuit breaker ${breaker} is ${state}; retry in ${retryInMs} ms`);
  }
}

export class BreakerTimeoutError extends Error {
  override readonly name = "BreakerTimeoutError";
  constructor(
    readonly breaker: string,
    readonly timeoutMs: number,
  ) {
    super(`call through circuit breaker ${breaker} exceeded its ${timeoutMs} ms deadline`);
  }
}

/** Runs `fn` with a signal that aborts at the deadline; rejects at the deadline even if `fn` ignores the signal. */
export function runWithDeadline<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  clock: Clock,
  breaker: string,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const error = new BreakerTimeoutError(breaker, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    new Promise<T>((run) => run(fn(controller.signal)))
      .finally(() => clock.clearTimeout(timer))
      .then(resolve, reject);
  });
}

/** Runs an admitted call, reports its outcome through `record`, and emits `onCall`. */
export async function runAdmitted<T>(
  s: BreakerSettings,
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  record: (failed: boolean) => void | Promise<void>,
): Promise<T> {
  const startedAt = s.clock.now();
  const report = async (failed: boolean) => {
    const durationMs = s.clock.now() - startedAt;
    await record(failed);
    s.onCall?.({ breaker: s.name, result: failed ? "failure" : "success", durationMs });
  };
  let value: T;
  try {
    value = await runWithDeadline(fn, timeoutMs, s.clock, s.name);
  } catch (error) {
    await report(error instanceof BreakerTimeoutError || classify(s, error));
    throw error;
  }
  await report(false);
  return value;
}

export function rejectCall(s: BreakerSettings, error: unknown): Promise<never> {
  if (error instanceof BreakerOpenError) s.onCall?.({ breaker: s.name, result: "rejected", durationMs: 0 });
  return Promise.reject(error);
}

function classify(s: BreakerSettings, error: unknown): boolean {
  try {
    return s.isFailure(error);
  } catch {
    return true; // a broken classifier must not hide an unhealthy dependency
  }
}

export interface LocalPermit {
  readonly id: number;
  readonly generation: number;
}

/**
 * In-process state machine. Outcomes are counted only for the state generation they were admitted in, so a
 * slow call admitted before a transition cannot flip the state that followed it.
 */
export class CircuitBreaker implements Breaker {
  readonly name: string;
  private readonly s: BreakerSettings;
  private current: BreakerState = "closed";
  private generation = 0;
  private lastChangeAt: number;
  private openUntil = 0;
  private consecutiveFailures = 0;
  private probeSuccesses = 0;
  private nextPermitId = 0;
  /** Probe permit id -> its deadline. Probes from an earlier half-open spell still hold their slot. */
  private readonly probes = new Map<number, number>();
  private readonly window: RollingWindow;

  constructor(options: BreakerOptions) {
    this.s = resolveBreakerOptions(options);
    this.name = this.s.name;
    this.lastChangeAt = this.s.clock.now();
    this.window = new RollingWindow(this.s.windowMs, this.s.windowBuckets);
  }

  get state(): BreakerState {
    this.applyCoolDown();
    return this.current;
  }

  call<T>(fn: (signal: AbortSignal) => Promise<T>, { timeoutMs }: CallOptions): Promise<T> {
    let permit: LocalPermit;
    try {
      permit = this.acquire(timeoutMs);
    } catch (error) {
      return rejectCall(this.s, error);
    }
    return runAdmitted(this.s, fn, timeoutMs, (failed) => this.release(permit, failed));
  }

  /** Admits a call or throws BreakerOpenError. Every permit must be released exactly once. */
  acquire(timeoutMs: number): LocalPermit {
    const retryInMs = this.retryInMs();
    if (retryInMs > 0) {
      throw new BreakerOpenError(this.name, retryInMs, this.current === "open" ? "open" : "half_open");
    }
    const permit = { id: this.nextPermitId++, generation: this.generation };
    if (this.current === "half_open") this.probes.set(permit.id, this.s.clock.now() + timeoutMs);
    return permit;
  }

  release(permit: LocalPermit, failed: boolean): void {
    this.probes.delete(permit.id);
    if (permit.generation !== this.generation) return;
    const now = this.s.clock.now();
    if (this.current === "closed") {
      this.window.record(now, failed);
      this.consecutiveFailures = failed ? this.consecutiveFailures + 1 : 0;
      const { calls, failures } = this.window.totals(now);
      if (this.consecutiveFailures >= this.s.consecutiveFailures) {
        this.transition("open", `${this.consecutiveFailures} consecutive failures`);
      } else if (calls >= this.s.minimumCalls && failures / calls >= this.s.failureRatio) {
        this.transition("open", `${failures} of ${calls} calls failed`);
      }
    } else if (this.current === "half_open") {
      if (failed) this.transition("open", "probe failed");
      else if (++this.probeSuccesses >= this.s.halfOpenSuccesses)
        this.transition("closed", `${this.probeSuccesses} probes succeeded`);
    }
  }

  /** Takes over a state decided elsewhere (the fleet's last known state) without emitting a transition. */
  adopt(state: BreakerState, retryInMs: number): void {
    this.enter(state, retryInMs);
  }

  snapshot(): BreakerSnapshot {
    const retryInMs = this.retryInMs();
    const { name, current: state, consecutiveFailures, lastChangeAt } = this;
    const { calls: windowCalls, failures: windowFailures } = this.window.totals(this.s.clock.now());
    return { name, state, consecutiveFailures, windowCalls, windowFailures, lastChangeAt, retryInMs };
  }

  private retryInMs(): number {
    this.applyCoolDown();
    const now = this.s.clock.now();
    if (this.current === "open") return Math.max(0, this.openUntil - now);
    if (this.current === "closed" || this.probes.size < this.s.halfOpenMaxProbes) return 0;
    return Math.max(1, Math.min(...this.probes.values()) - now);
  }

  private applyCoolDown(): void {
    if (this.current === "open" && this.s.clock.now() >= this.openUntil)
      this.transition("half_open", "cool-down elapsed");
  }

  private transition(to: BreakerState, reason: string): void {
    const from = this.current;
    this.enter(to, to === "open" ? this.s.coolDownMs : 0);
    this.s.onStateChange?.({ breaker: this.name, from, to, reason, origin: "self" });
  }

  private enter(to: BreakerState, openForMs: number): void {
    const now = this.s.clock.now();
    this.current = to;
    this.generation++;
    this.lastChangeAt = now;
    this.openUntil = now + Math.max(0, openForMs);
    this.consecutiveFailures = 0;
    this.probeSuccesses = 0;
    this.window.reset();
  }
}
