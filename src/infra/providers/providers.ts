import type { Redis } from "ioredis";
import type { Config } from "../../config.ts";
import type { Cache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { createIdentifier, type Identifier } from "./identify.ts";
import { createPlantIdClient } from "./plant-id.ts";
import { createPlantNetClient } from "./plantnet.ts";
import type { ProviderName } from "./provider-error.ts";
import type { ProviderGates } from "./provider-gate.ts";
import { createProviderQuota, type QuotaStatus } from "./provider-quota.ts";

export type Providers = {
  gates: ProviderGates;
  identifier: Identifier;
  /** false: no API key, the provider is skipped. */
  isConfigured(provider: ProviderName): boolean;
  /** The hourly and daily call budget the provider's calls spend (health assessments spend Plant.id's). */
  quotaStatus(provider: ProviderName): Promise<QuotaStatus>;
};

/** Whose budget a provider's calls spend: health assessments are Plant.id credits too. */
const BUDGET_OF: Record<ProviderName, "plant-id" | "plantnet"> = {
  "plant-id": "plant-id",
  "plant-id-health": "plant-id",
  plantnet: "plantnet",
};

/** The provider clients (only those with a key), their quotas, and the identification that combines them. */
export function createProviders(opts: {
  config: Pick<Config, "providers" | "redis">;
  cache: Cache;
  redis: Redis;
  gates: ProviderGates;
  clock: Clock;
  logger: Logger;
}): Providers {
  const { plantId, plantnet } = opts.config.providers;
  const quota = createProviderQuota({
    redis: opts.redis,
    keyPrefix: opts.config.redis.keyPrefix,
    budgets: {
      "plant-id": { daily: plantId.dailyQuota, hourly: plantId.hourlyQuota },
      plantnet: { daily: plantnet.dailyQuota, hourly: plantnet.hourlyQuota },
    },
    now: () => opts.clock.now(),
    logger: opts.logger,
  });
  const identifier = createIdentifier({
    cache: opts.cache,
    quota,
    gates: opts.gates,
    clients: {
      plantId: plantId.apiKey
        ? createPlantIdClient({ baseUrl: plantId.baseUrl, apiKey: plantId.apiKey })
        : undefined,
      plantnet: plantnet.apiKey
        ? createPlantNetClient({
            baseUrl: plantnet.baseUrl,
            apiKey: plantnet.apiKey,
            project: plantnet.project,
          })
        : undefined,
    },
    settings: { plantId, plantnet },
    logger: opts.logger,
  });
  return {
    gates: opts.gates,
    identifier,
    isConfigured: (provider) =>
      Boolean(BUDGET_OF[provider] === "plantnet" ? plantnet.apiKey : plantId.apiKey),
    quotaStatus: (provider) => quota.status(BUDGET_OF[provider]),
  };
}
