import type { BreakerSettings } from "../../config/breakers.ts";

/**
 * The one table of identification providers. Everything that used to spell the provider names out is derived
 * from it: the ProviderName type, the breakers and gates (one per entry), the provider metrics, the quotas
 * (one budget per account), `/v1/providers`, the environment variables and the identification's provider
 * reports. Adding a provider, or a variant of one (another PlantNet project, another Plant.id classification
 * level), is one entry here: it gets its own breaker and `/v1/providers` row, and spends its account's budget.
 */

/** What goes over the wire (see /work/shared/providers.md); the client is chosen by it. */
export type WireFormat = "plant-id" | "plant-id-health" | "plantnet";

/** A provider account: one API key, base URL, cache lifetime and hourly/daily budget, shared by its entries. */
export type ProviderAccount = Readonly<{
  /** Environment prefix: <PREFIX>_API_KEY, _BASE_URL, _DAILY_QUOTA, _HOURLY_QUOTA, _CACHE_TTL_SECONDS. */
  envPrefix: string;
  publicBaseUrl: string;
  dailyQuota: number;
  hourlyQuota: number;
  cacheTtlSeconds: number;
}>;

export const PROVIDER_ACCOUNTS = {
  "plant-id": {
    envPrefix: "PLANT_ID",
    publicBaseUrl: "https://api.plant.id/v3",
    dailyQuota: 1_000,
    hourlyQuota: 200,
    cacheTtlSeconds: 86_400,
  },
  plantnet: {
    envPrefix: "PLANTNET",
    publicBaseUrl: "https://my-api.plantnet.org/v2",
    dailyQuota: 500,
    hourlyQuota: 100,
    cacheTtlSeconds: 86_400,
  },
} as const satisfies Record<string, ProviderAccount>;

export type AccountName = keyof typeof PROVIDER_ACCOUNTS;

export type ProviderDefinition = Readonly<{
  wire: WireFormat;
  /** identify: its suggestions can be merged into the result; health: Plant.id's health assessment. */
  role: "identify" | "health";
  /** Whose key, base URL, cache lifetime and budget the calls use. */
  account: AccountName;
  /** Called for every identification that is not in an experiment (models can pick the others). */
  byDefault: boolean;
  /** Where the provider's part appears in an identification's `providers` report. */
  reportKey: string;
  /** Deadline of one call, and the environment variable that overrides it. */
  timeoutMs: number;
  timeoutEnv: string;
  /** PlantNet: the project (flora) asked, and the variable that overrides it. */
  project?: string;
  projectEnv?: string;
  /** Plant.id: `classification_level` sent with the request (species, all, genus); omitted = the provider's default. */
  classificationLevel?: "species" | "all" | "genus";
  /** Breaker settings that differ from the fleet defaults (BREAKER_OVERRIDES still wins). */
  breaker?: Partial<BreakerSettings>;
}>;

export const PROVIDER_REGISTRY = {
  "plant-id": {
    wire: "plant-id",
    role: "identify",
    account: "plant-id",
    byDefault: true,
    reportKey: "plantId",
    timeoutMs: 6_000,
    timeoutEnv: "PLANT_ID_TIMEOUT_MS",
  },
  "plant-id-health": {
    wire: "plant-id-health",
    role: "health",
    account: "plant-id",
    byDefault: true,
    reportKey: "plantIdHealth",
    timeoutMs: 6_000,
    timeoutEnv: "PLANT_ID_HEALTH_TIMEOUT_MS",
  },
  plantnet: {
    wire: "plantnet",
    role: "identify",
    account: "plantnet",
    byDefault: true,
    reportKey: "plantnet",
    timeoutMs: 5_000,
    timeoutEnv: "PLANTNET_TIMEOUT_MS",
    project: "k-world-flora",
    projectEnv: "PLANTNET_PROJECT",
  },
} as const satisfies Record<string, ProviderDefinition>;

export type ProviderName = keyof typeof PROVIDER_REGISTRY;
export const PROVIDER_NAMES = Object.keys(PROVIDER_REGISTRY) as [ProviderName, ...ProviderName[]];
export const ACCOUNT_NAMES = Object.keys(PROVIDER_ACCOUNTS) as [AccountName, ...AccountName[]];

export function providerDefinition(name: ProviderName): ProviderDefinition {
  return PROVIDER_REGISTRY[name];
}

/** Builds a record with one value per provider, in registry order. */
export function perProvider<T>(
  make: (name: ProviderName, def: ProviderDefinition) => T,
): Record<ProviderName, T> {
  return Object.fromEntries(
    PROVIDER_NAMES.map((name) => [name, make(name, PROVIDER_REGISTRY[name])]),
  ) as Record<ProviderName, T>;
}

export function isProviderName(value: string): value is ProviderName {
  return Object.hasOwn(PROVIDER_REGISTRY, value);
}

/** Names of the identify providers (not health), in registry order. */
export const IDENTIFY_PROVIDERS = PROVIDER_NAMES.filter((n) => PROVIDER_REGISTRY[n].role === "identify");
