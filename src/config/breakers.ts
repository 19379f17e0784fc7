import { z } from "zod";
import { PROVIDER_NAMES, PROVIDER_REGISTRY, type ProviderName } from "../infra/providers/registry.ts";
import { int } from "./env-types.ts";

const BreakerOverride = z
  .object({
    consecutiveFailures: z.number().int().min(1),
    failureRatio: z.number().gt(0).max(1),
    minimumCalls: z.number().int().min(1),
    windowMs: z.number().int().min(1_000),
    coolDownMs: z.number().int().min(100),
    halfOpenMaxProbes: z.number().int().min(1),
    halfOpenSuccesses: z.number().int().min(1),
  })
  .partial()
  .strict();

/** One breaker per registry provider. */
const PROVIDER_BREAKERS = PROVIDER_NAMES;

/** Circuit breaker settings: fleet defaults, with per-breaker overrides as JSON (`{"plantnet":{"coolDownMs":30000}}`). */
export const BreakerEnvShape = {
  BREAKER_CONSECUTIVE_FAILURES: int(1).default(5),
  BREAKER_FAILURE_RATIO: z.coerce.number().gt(0).max(1).default(0.5),
  BREAKER_MINIMUM_CALLS: int(1).default(10),
  BREAKER_WINDOW_MS: int(1_000).default(30_000),
  BREAKER_COOL_DOWN_MS: int(100).default(60_000),
  BREAKER_HALF_OPEN_MAX_PROBES: int(1).default(1),
  BREAKER_HALF_OPEN_SUCCESSES: int(1).default(2),
  BREAKER_OVERRIDES: z
    .string()
    .default("{}")
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.partialRecord(z.enum(PROVIDER_BREAKERS), BreakerOverride)),
};

type BreakerEnv = z.infer<z.ZodObject<typeof BreakerEnvShape>>;

export type BreakerSettings = Readonly<{
  consecutiveFailures: number;
  failureRatio: number;
  minimumCalls: number;
  windowMs: number;
  coolDownMs: number;
  halfOpenMaxProbes: number;
  halfOpenSuccesses: number;
}>;

export type BreakerConfig = Readonly<{
  breakers: Readonly<Record<ProviderName, BreakerSettings>>;
}>;

export function breakerConfig(e: BreakerEnv): BreakerConfig {
  const defaults: BreakerSettings = {
    consecutiveFailures: e.BREAKER_CONSECUTIVE_FAILURES,
    failureRatio: e.BREAKER_FAILURE_RATIO,
    minimumCalls: e.BREAKER_MINIMUM_CALLS,
    windowMs: e.BREAKER_WINDOW_MS,
    coolDownMs: e.BREAKER_COOL_DOWN_MS,
    halfOpenMaxProbes: e.BREAKER_HALF_OPEN_MAX_PROBES,
    halfOpenSuccesses: e.BREAKER_HALF_OPEN_SUCCESSES,
  };
  const overrides = e.BREAKER_OVERRIDES as Partial<Record<ProviderName, Partial<BreakerSettings>>>;
  // Fleet defaults, then the registry's own settings for the provider, then the operator's overrides.
  const registered = (name: ProviderName): Partial<BreakerSettings> =>
    (PROVIDER_REGISTRY[name] as { breaker?: Partial<BreakerSettings> }).breaker ?? {};
  return {
    breakers: Object.fromEntries(
      PROVIDER_BREAKERS.map((name) => [name, { ...defaults, ...registered(name), ...overrides[name] }]),
    ) as BreakerConfig["breakers"],
  };
}
