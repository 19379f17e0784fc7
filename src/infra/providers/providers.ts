import type { Redis } from "ioredis";
import type { Config } from "../../config/index.ts";
import type { Cache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { createIdentifier, type Identifier } from "./identify.ts";
import { createPlantIdClient } from "./plant-id.ts";
import { createPlantNetClient } from "./plantnet.ts";
import type { ProviderGates } from "./provider-gate.ts";
import { createProviderPace } from "./provider-pace.ts";
import { createProviderQuota, type QuotaBudget, type QuotaStatus } from "./provider-quota.ts";
import { ACCOUNT_NAMES, type AccountName, PROVIDER_REGISTRY, type ProviderName } from "./registry.ts";

export type Providers = {
  gates: ProviderGates;
  identifier: Identifier;
  /** false: no API key, the provider is skipped. */
  isConfigured(provider: ProviderName): boolean;
  /** The hourly and daily call budget the provider's calls spend (its account's: health spends Plant.id's). */
  quotaStatus(provider: ProviderName): Promise<QuotaStatus>;
};

/** The settings of one account: every provider of the account reads the same key, URL and budget. */
function accountSettings(config: Pick<Config, "providers">, account: AccountName) {
  const entry = Object.values(config.providers).find((p) => p.account === account);
  if (!entry) throw new Error(`no provider of account ${account} in the configuration`);
  return entry;
}

/** The provider clients (only those with a key), their quotas, and the identification that combines them. */
export function createProviders(opts: {
  config: Pick<Config, "providers" | "redis" | "identifySyncWaitMs">;
  cache: Cache;
  redis: Redis;
  gates: ProviderGates;
  clock: Clock;
  logger: Logger;
  /** Shadow calls are made only while this says the provider is healthy (default: always). */
  shadowAllowed?: (provider: ProviderName) => boolean;
  /** Told each provider's learnt stall threshold when it changes (provider_stall_threshold_seconds). */
  onSyncWait?: (provider: ProviderName, waitMs: number) => void;
}): Providers {
  const accounts = Object.fromEntries(
    ACCOUNT_NAMES.map((name) => [name, accountSettings(opts.config, name)]),
  ) as Record<AccountName, ReturnType<typeof accountSettings>>;
  const quota = createProviderQuota({
    redis: opts.redis,
    keyPrefix: opts.config.redis.keyPrefix,
    budgets: Object.fromEntries(
      ACCOUNT_NAMES.map((name) => [
        name,
        { daily: accounts[name].dailyQuota, hourly: accounts[name].hourlyQuota } satisfies QuotaBudget,
      ]),
    ),
    now: () => opts.clock.now(),
    logger: opts.logger,
  });
  const plantId = accounts["plant-id"];
  const plantnet = accounts.plantnet;
  const identifier = createIdentifier({
    cache: opts.cache,
    quota,
    gates: opts.gates,
    clients: {
      "plant-id": plantId.apiKey
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
    settings: opts.config.providers,
    logger: opts.logger,
    shadowAllowed: opts.shadowAllowed,
    pace: createProviderPace({ ceilingMs: opts.config.identifySyncWaitMs, onWait: opts.onSyncWait }),
  });
  const accountOf = (provider: ProviderName) => PROVIDER_REGISTRY[provider].account;
  return {
    gates: opts.gates,
    identifier,
    isConfigured: (provider) => Boolean(accounts[accountOf(provider)].apiKey),
    quotaStatus: (provider) => quota.status(accountOf(provider)),
  };
}
