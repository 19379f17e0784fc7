import { BreakerOpenError } from "../breaker.ts";
import { ProviderError, type ProviderName } from "./provider-error.ts";
import { perProvider } from "./registry.ts";

/** What a provider call goes through: a circuit breaker, or (until one is wired) a plain deadline. */
export interface ProviderGate {
  call<T>(fn: (signal: AbortSignal) => Promise<T>, options: { timeoutMs: number }): Promise<T>;
  /** A breaker's state as this instance last saw it: an open one is refused before any work (provider-wait.ts). */
  snapshot?(): { state: string; retryInMs: number };
}

export type ProviderGates = Readonly<Record<ProviderName, ProviderGate>>;

/**
 * `gate` with its calls made through `call` (metrics, budgets), its breaker's state still readable: a wrapper
 * that dropped `snapshot` would hide an open breaker from the identifier, which then encodes for and charges
 * quota to a call the breaker refuses.
 */
export function wrapGate(gate: ProviderGate, call: ProviderGate["call"]): ProviderGate {
  return gate.snapshot ? { call, snapshot: gate.snapshot.bind(gate) } : { call };
}

export type GateOutcome<T> =
  | { kind: "ok"; value: T }
  | { kind: "circuit_open"; retryAfterSeconds: number }
  | { kind: "failed"; error: unknown; retryAfterSeconds: number | undefined };

/**
 * The one place every provider call passes through: the gate (breaker) with the call's deadline, and the
 * outcome turned into a value, so callers never have to know which exceptions a breaker or a client throws.
 */
export async function callProvider<T>(
  gate: ProviderGate,
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<GateOutcome<T>> {
  try {
    return { kind: "ok", value: await gate.call(fn, { timeoutMs }) };
  } catch (error) {
    if (error instanceof BreakerOpenError) {
      return { kind: "circuit_open", retryAfterSeconds: Math.max(1, Math.ceil(error.retryInMs / 1000)) };
    }
    const retryAfterSeconds = error instanceof ProviderError ? error.retryAfterSeconds : undefined;
    return { kind: "failed", error, retryAfterSeconds };
  }
}

/** A gate with a deadline and nothing else: the stand-in until the circuit breakers are wired in deps.ts. */
export function deadlineOnlyGate(provider: ProviderName): ProviderGate {
  return {
    call(fn, { timeoutMs }) {
      const controller = new AbortController();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const error = new ProviderError(provider, "timeout", `no answer within ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
        // Settles at the deadline even if `fn` ignores its signal.
        Promise.resolve()
          .then(() => fn(controller.signal))
          .then(resolve, reject)
          .finally(() => clearTimeout(timer));
      });
    },
  };
}

export function deadlineOnlyGates(): ProviderGates {
  return perProvider((name) => deadlineOnlyGate(name));
}
