import type { ProviderName } from "./registry.ts";

export type { ProviderName } from "./registry.ts";
export type ProviderErrorKind = "timeout" | "network" | "http" | "invalid_response";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  readonly provider: ProviderName;
  readonly kind: ProviderErrorKind;
  readonly status?: number;
  readonly retryAfterSeconds?: number;

  constructor(
    provider: ProviderName,
    kind: ProviderErrorKind,
    message: string,
    options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(`${provider}: ${message}`, { cause: options.cause });
    this.provider = provider;
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/**
 * Breaker classifier: true when the failure says "the provider cannot serve us right now".
 *
 * - timeouts, network errors, unparseable answers, 5xx and 429: the provider is down, slow or out of quota.
 * - 401/403: our key is wrong, revoked or out of credit. No later request can succeed until an operator acts,
 *   so opening the breaker stops us from burning a request (and user latency) on every identification.
 * - any other 4xx (bad image, bad request): caused by this one input; the next request may well succeed.
 * - PlantNet "Species not found" never gets here: the client returns it as { status: "no_match" }.
 * - errors we did not classify (a bug, a raw AbortError) count as outages: when in doubt, protect the caller.
 */
export function isProviderOutage(err: unknown): boolean {
  if (!(err instanceof ProviderError)) return true;
  if (err.kind !== "http") return true;
  const status = err.status ?? 0;
  return status >= 500 || status === 429 || status === 401 || status === 403;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}
