import { z } from "zod";

export const SIM_PROVIDERS = ["plant-id", "plant-id-health", "plantnet"] as const;
export type SimProvider = (typeof SIM_PROVIDERS)[number];

interface Behaviour {
  latencyMs: number;
  failure: { status: number; remaining: number | null } | null;
  hang: boolean;
  noMatch: boolean;
}

const freshBehaviour = (): Behaviour => ({ latencyMs: 0, failure: null, hang: false, noMatch: false });
const perProvider = <T>(make: () => T) =>
  Object.fromEntries(SIM_PROVIDERS.map((p) => [p, make()])) as Record<SimProvider, T>;

const Provider = z.enum(SIM_PROVIDERS);

/** Body of `POST /__sim/control`: the same operations as the in-process control object. */
export const ControlCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("setLatency"), provider: Provider, ms: z.number().int().min(0) }),
  z.object({
    action: z.literal("failWith"),
    provider: Provider,
    status: z.number().int().min(400).max(599),
    times: z.number().int().min(1).optional(),
  }),
  z.object({ action: z.literal("hang"), provider: Provider }),
  z.object({ action: z.literal("noMatch"), provider: Provider.optional() }),
  z.object({ action: z.literal("reset") }),
  z.object({ action: z.literal("resetCalls") }),
]);
export type ControlCommand = z.infer<typeof ControlCommand>;

export type HangOutcome = "released" | "client_gone" | "not_hanging";

export class SimulatorControl {
  private behaviour = perProvider(freshBehaviour);
  private callCounts = perProvider(() => 0);
  private hangReleases = new Set<() => void>();
  private callWaiters: { provider: SimProvider; count: number; resolve: () => void }[] = [];

  setLatency(provider: SimProvider, ms: number): void {
    this.behaviour[provider].latencyMs = ms;
  }

  /** Answer `status` for the next `times` calls (every call until reset when omitted). */
  failWith(provider: SimProvider, status: number, times?: number): void {
    this.behaviour[provider].failure = { status, remaining: times ?? null };
  }

  /** Hold every request until reset() or stop(). */
  hang(provider: SimProvider): void {
    this.behaviour[provider].hang = true;
  }

  /** "Not a plant" answers: Plant.id is_plant false, PlantNet 404 Species not found. All providers by default. */
  noMatch(provider?: SimProvider): void {
    for (const p of provider ? [provider] : SIM_PROVIDERS) this.behaviour[p].noMatch = true;
  }

  /** Back to a fresh simulator: normal answers, no latency, call counts at zero, hung requests released. */
  reset(): void {
    this.behaviour = perProvider(freshBehaviour);
    this.resetCalls();
    this.releaseHungRequests();
  }

  calls(provider: SimProvider): number {
    return this.callCounts[provider];
  }

  /** Resolves once `provider` has received `count` calls: lets a test wait for a request to arrive, no polling. */
  whenCalled(provider: SimProvider, count = 1): Promise<void> {
    if (this.callCounts[provider] >= count) return Promise.resolve();
    return new Promise((resolve) => this.callWaiters.push({ provider, count, resolve }));
  }

  allCalls(): Record<SimProvider, number> {
    return { ...this.callCounts };
  }

  resetCalls(): void {
    this.callCounts = perProvider(() => 0);
  }

  apply(command: ControlCommand): void {
    if (command.action === "setLatency") this.setLatency(command.provider, command.ms);
    else if (command.action === "failWith") this.failWith(command.provider, command.status, command.times);
    else if (command.action === "hang") this.hang(command.provider);
    else if (command.action === "noMatch") this.noMatch(command.provider);
    else if (command.action === "reset") this.reset();
    else this.resetCalls();
  }

  // ---- used by the request pipeline ----

  /** The W3C `traceparent` header of each provider's latest request (undefined: none sent). */
  readonly lastTraceparent: Partial<Record<SimProvider, string>> = {};

  recordCall(provider: SimProvider, traceparent?: string | null): void {
    this.lastTraceparent[provider] = traceparent ?? undefined;
    this.callCounts[provider] += 1;
    const due = this.callWaiters.filter(
      (w) => w.provider === provider && this.callCounts[provider] >= w.count,
    );
    this.callWaiters = this.callWaiters.filter((w) => !due.includes(w));
    for (const waiter of due) waiter.resolve();
  }

  latencyOf(provider: SimProvider): number {
    return this.behaviour[provider].latencyMs;
  }

  /** No failure armed and not hanging: the call will be answered normally (unless a test changes that meanwhile). */
  answersNormally(provider: SimProvider): boolean {
    const b = this.behaviour[provider];
    return b.failure === null && !b.hang;
  }

  isNoMatch(provider: SimProvider): boolean {
    return this.behaviour[provider].noMatch;
  }

  /** The status to fail this call with, if a failure is armed; counts down `times`. */
  takeFailure(provider: SimProvider): number | null {
    const failure = this.behaviour[provider].failure;
    if (!failure) return null;
    if (failure.remaining !== null) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.behaviour[provider].failure = null;
    }
    return failure.status;
  }

  waitWhileHanging(provider: SimProvider, clientSignal: AbortSignal): Promise<HangOutcome> {
    if (!this.behaviour[provider].hang) return Promise.resolve("not_hanging");
    return new Promise((resolve) => {
      const release = (outcome: HangOutcome) => {
        this.hangReleases.delete(onRelease);
        clientSignal.removeEventListener("abort", onClientGone);
        resolve(outcome);
      };
      const onRelease = () => release("released");
      const onClientGone = () => release("client_gone");
      this.hangReleases.add(onRelease);
      clientSignal.addEventListener("abort", onClientGone, { once: true });
    });
  }

  /** Requests the simulator is holding (hanging) right now. */
  hangingCount(): number {
    return this.hangReleases.size;
  }

  releaseHungRequests(): void {
    for (const release of [...this.hangReleases]) release();
  }
}
