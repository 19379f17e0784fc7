import type { ProviderConfigKey } from "../../config/identification.ts";
import type { Cache } from "../cache.ts";
import type { Logger } from "../logger.ts";
import { planCall } from "./call-plan.ts";
import type {
  CallRecord,
  CallSpec,
  IdentifyInput,
  IdentifyOutcome,
  IdentifyPlan,
  ProviderAnswer,
} from "./identify-contract.ts";
import { answered } from "./identify-contract.ts";
import type { PlantIdClient, PlantIdHealth, PlantIdIdentification } from "./plant-id.ts";
import type { PlantNetClient, PlantNetResult } from "./plantnet.ts";
import { providerAnswer } from "./provider-answer.ts";
import type { ProviderGates } from "./provider-gate.ts";
import type { ProviderPace } from "./provider-pace.ts";
import type { ProviderQuota } from "./provider-quota.ts";
import { type Wait, within } from "./provider-wait.ts";
import {
  PROVIDER_NAMES,
  PROVIDER_REGISTRY,
  type ProviderDefinition,
  type ProviderName,
  type WireFormat,
} from "./registry.ts";

export type ProviderCallSettings = Readonly<{
  timeoutMs: number;
  cacheTtlSeconds: number;
  project?: string;
  classificationLevel?: "species" | "all" | "genus";
}>;

/** One client per account (it carries the key and base URL); the wire format picks the client's method. */
export type ProviderClients = Readonly<{
  "plant-id"?: PlantIdClient | undefined;
  plantnet?: PlantNetClient | undefined;
}>;

export type IdentifyDeps = {
  cache: Cache;
  quota: ProviderQuota;
  gates: ProviderGates;
  clients: ProviderClients;
  /** Per provider, under its registry report key (config.providers). */
  settings: Readonly<Partial<Record<ProviderConfigKey, ProviderCallSettings>>>;
  logger: Logger;
  /** Shadow calls are made only while this says the provider is healthy (default: always). */
  shadowAllowed?: (provider: ProviderName) => boolean;
  /** Learns each provider's pace, so a synchronous request waits for a hanging provider briefly, not fully. */
  pace?: ProviderPace;
};

const NOT_SELECTED = { status: "skipped", cached: false, reason: "not_selected" } as const;

/**
 * The plan's calls in parallel (by default Plant.id, PlantNet and Plant.id's health assessment). Each answer
 * comes from the shared cache when it can; otherwise exactly one caller in the fleet spends quota and calls
 * through the provider's gate. Shadow calls start at the same time but are not waited for.
 */
export function createIdentifier(deps: IdentifyDeps) {
  async function record(
    spec: CallSpec,
    input: IdentifyInput,
    wait?: Wait,
    sent?: () => void,
  ): Promise<CallRecord> {
    const def = PROVIDER_REGISTRY[spec.provider] as ProviderDefinition;
    const plan = planCall(deps, spec, input);
    let latencyMs: number | null = null;
    const running = providerAnswer(deps, plan, input, sent).then((r) => {
      latencyMs = r.latencyMs;
      return r.answer;
    });
    if (sent) running.then(sent, sent);
    // A shadow is never waited for by the user, so the synchronous wait does not apply to it.
    const pace = deps.pace;
    const paced = wait && pace ? { ...wait, stalled: () => pace.isStalled(spec.provider) } : wait;
    const answer = await within(spec.shadow ? undefined : paced, plan.timeoutMs, running);
    return {
      provider: spec.provider,
      wire: def.wire,
      modelId: spec.modelId,
      shadow: spec.shadow ?? false,
      settings: spec.settings ?? {},
      answer,
      latencyMs,
    };
  }

  return {
    async identify(given: IdentifyInput, plan: IdentifyPlan = DEFAULT_PLAN): Promise<IdentifyOutcome> {
      // The wait is for the providers: time spent encoding their copies (our own CPU) does not count against it.
      let encoding: Promise<number> | undefined;
      const input: IdentifyInput = {
        ...given,
        providerImages: () => {
          const images = given.providerImages();
          encoding ??= images.then(
            () => performance.now(),
            () => performance.now(),
          );
          return images;
        },
      };
      const wait: Wait | undefined =
        given.waitMs === undefined ? undefined : { ms: given.waitMs, encoding: () => encoding };
      const shown = plan.calls.filter((c) => !c.shadow && PROVIDER_REGISTRY[c.provider].role === "identify");
      const healthSpec = input.includeHealth
        ? PROVIDER_NAMES.find((n) => PROVIDER_REGISTRY[n].role === "health" && PROVIDER_REGISTRY[n].byDefault)
        : undefined;
      const specs: CallSpec[] = healthSpec ? [...shown, { provider: healthSpec }] : shown;
      const shadowSpecs = plan.calls.filter((c) => c.shadow && (deps.shadowAllowed?.(c.provider) ?? true));
      // Started now, with the same photos, but never awaited here: a slow shadow must not slow the user.
      const shadows = Promise.all(shadowSpecs.map((spec) => record(spec, input)));
      shadows.catch(() => {});
      const onDispatched = given.onDispatched;
      let unsent = specs.length;
      if (onDispatched && unsent === 0) onDispatched();
      const sentOnce = () => {
        let done = false;
        return () => {
          if (done) return;
          done = true;
          unsent -= 1;
          if (unsent === 0) onDispatched?.();
        };
      };
      const calls = await Promise.all(
        specs.map((spec) => record(spec, input, wait, onDispatched && sentOnce())),
      );
      const first = (wire: WireFormat) =>
        calls.find((c) => c.wire === wire && answered(c.answer))?.answer ??
        calls.find((c) => c.wire === wire)?.answer;
      return {
        plantId: (first("plant-id") ?? NOT_SELECTED) as ProviderAnswer<PlantIdIdentification>,
        plantnet: (first("plantnet") ?? NOT_SELECTED) as ProviderAnswer<PlantNetResult>,
        health: healthSpec ? (first("plant-id-health") as ProviderAnswer<PlantIdHealth>) : undefined,
        calls,
        shadows,
      };
    },
  };
}

/** Every identify provider marked byDefault, once, with its configured settings. */
export const DEFAULT_PLAN: IdentifyPlan = {
  calls: PROVIDER_NAMES.filter(
    (n) => PROVIDER_REGISTRY[n].role === "identify" && PROVIDER_REGISTRY[n].byDefault,
  ).map((provider) => ({ provider })),
};

export type Identifier = ReturnType<typeof createIdentifier>;
