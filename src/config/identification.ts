import { resolve } from "node:path";
import { z } from "zod";
import {
  type AccountName,
  PROVIDER_ACCOUNTS,
  PROVIDER_NAMES,
  PROVIDER_REGISTRY,
  type ProviderName,
} from "../infra/providers/registry.ts";
import { bool, int, optionalText, optionalUrl } from "./env-types.ts";

export const PLANT_ID_PUBLIC_BASE_URL = PROVIDER_ACCOUNTS["plant-id"].publicBaseUrl;
export const PLANTNET_PUBLIC_BASE_URL = PROVIDER_ACCOUNTS.plantnet.publicBaseUrl;
/** Keys the provider simulator accepts by default; never valid against the real providers. */
const SIMULATOR_KEY = /^sim-/;

/** Environment of uploads, storage and the identification providers; merged into the one schema in index.ts. */
export const IdentificationEnvShape = {
  STORAGE_DRIVER: z.enum(["local", "s3"]).default("local"),
  MEDIA_DIR: z.string().default(".data/media"),
  // The mount point of a persistent volume holding MEDIA_DIR. Production refuses the local driver without one:
  // a Machine's own disk is lost on every deploy, and each Fly process group runs on separate Machines.
  MEDIA_VOLUME: optionalText,
  MEDIA_PUBLIC_BASE_URL: optionalUrl,
  S3_ENDPOINT: optionalUrl,
  S3_BUCKET: optionalText,
  S3_REGION: z.string().default("us-east-1"),
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_TIMEOUT_MS: int(100).default(5_000),

  UPLOAD_MAX_FILE_BYTES: int(1024).default(10 * 1024 * 1024),
  UPLOAD_MAX_REQUEST_BYTES: int(1024).default(30 * 1024 * 1024),
  IMAGE_MIN_DIMENSION_PX: int(1).default(100),
  IMAGE_MAX_PIXELS: int(1).default(50_000_000),

  // One block per provider account and per provider, generated from the registry (providers/registry.ts).
  ...providerEnvShape(),
  IDEMPOTENCY_TTL_SECONDS: int(60).default(86_400),
  // How long a synchronous identification waits for the providers (issue 10, a hanging provider): shorter than
  // the providers' own deadlines so a client is answered in bounded time; the calls go on and fill the cache.
  // 3 s: the roadmap's identification latency target; real providers often take 1-3 s, so a shorter default
  // would turn healthy answers into 503s. The hanging-provider drill was measured with 1.2 s.
  IDENTIFY_SYNC_WAIT_MS: int(100).default(3_000),
  // Unreferenced stored photos (content-addressed, shared) are deleted by media.purge after this grace.
  PHOTO_UNREFERENCED_GRACE_SECONDS: int(300).default(3_600),
};

type IdentificationEnv = z.infer<z.ZodObject<typeof IdentificationEnvShape>>;

type Accounts = typeof PROVIDER_ACCOUNTS;
type AccountEnvKey = {
  [A in AccountName]: `${Accounts[A]["envPrefix"]}_${"API_KEY" | "BASE_URL" | "DAILY_QUOTA" | "HOURLY_QUOTA" | "CACHE_TTL_SECONDS"}`;
}[AccountName];
type Registry = typeof PROVIDER_REGISTRY;
type ProviderEnvKey =
  | { [N in ProviderName]: Registry[N]["timeoutEnv"] }[ProviderName]
  | {
      [N in ProviderName]: Registry[N] extends { projectEnv: infer P extends string } ? P : never;
    }[ProviderName];
/** Where a provider's settings appear in `config.providers` (and its report in an identification). */
export type ProviderConfigKey = Registry[ProviderName]["reportKey"];

/** Every account's and provider's variables, derived from the registry so a new entry needs no edit here. */
function providerEnvShape(): Record<AccountEnvKey | ProviderEnvKey, z.ZodType<unknown>> {
  const shape: Record<string, z.ZodType<unknown>> = {};
  for (const account of Object.values(PROVIDER_ACCOUNTS) as ProviderAccountEntry[]) {
    const p = account.envPrefix;
    shape[`${p}_API_KEY`] = optionalText;
    shape[`${p}_BASE_URL`] = optionalUrl;
    shape[`${p}_DAILY_QUOTA`] = int(0).default(account.dailyQuota);
    shape[`${p}_HOURLY_QUOTA`] = int(0).default(account.hourlyQuota);
    shape[`${p}_CACHE_TTL_SECONDS`] = int(1).default(account.cacheTtlSeconds);
  }
  for (const name of PROVIDER_NAMES) {
    const def: ProviderEntry = PROVIDER_REGISTRY[name];
    shape[def.timeoutEnv] ??= int(100).default(def.timeoutMs);
    if (def.projectEnv) shape[def.projectEnv] ??= z.string().default(def.project ?? "");
  }
  return shape as Record<AccountEnvKey | ProviderEnvKey, z.ZodType<unknown>>;
}
type ProviderAccountEntry = Accounts[AccountName];
type ProviderEntry = Registry[ProviderName] & { projectEnv?: string; project?: string };

export type ProviderSettings = Readonly<{
  /** The account whose key, budget and cache lifetime the provider uses. */
  account: AccountName;
  /** undefined: not configured, the provider is reported as skipped. */
  apiKey: string | undefined;
  baseUrl: string;
  timeoutMs: number;
  /** 0 means no budget (unlimited). */
  dailyQuota: number;
  hourlyQuota: number;
  cacheTtlSeconds: number;
  /** PlantNet: the project (flora) asked. */
  project?: string;
  /** Plant.id: classification_level sent with each request; undefined = the provider's default. */
  classificationLevel?: "species" | "all" | "genus";
}>;

export type IdentificationConfig = Readonly<{
  storage: Readonly<{
    driver: "local" | "s3";
    localDir: string;
    /** Where image URLs point; undefined: the API's own /v1/media path. */
    publicBaseUrl: string | undefined;
    s3: Readonly<{
      endpoint: string | undefined;
      bucket: string;
      region: string;
      accessKeyId: string | undefined;
      secretAccessKey: string | undefined;
      forcePathStyle: boolean;
      timeoutMs: number;
    }>;
  }>;
  uploads: Readonly<{
    maxFileBytes: number;
    maxRequestBytes: number;
    maxImages: number;
    minDimensionPx: number;
    maxPixels: number;
  }>;
  /** One entry per registry provider, under its report key (plantId, plantIdHealth, plantnet, ...). */
  providers: Readonly<Record<ProviderConfigKey, ProviderSettings>>;
  idempotencyTtlSeconds: number;
  /** The longest a synchronous identification waits for the providers before answering with what it has. */
  identifySyncWaitMs: number;
  /** An unreferenced photo object survives this long (a request between storing it and referencing it). */
  photoUnreferencedGraceSeconds: number;
}>;

/** Production refuses to start without real provider keys and explicit base URLs, or with half an S3 setup. */
export function checkIdentificationEnv(
  env: IdentificationEnv & { NODE_ENV: string },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (env.STORAGE_DRIVER === "s3" && !env.S3_BUCKET) issue("S3_BUCKET", "required when STORAGE_DRIVER=s3");
  if (env.NODE_ENV !== "production") return;
  if (env.STORAGE_DRIVER === "local") checkMediaVolume(env, issue);
  // An S3-compatible store other than AWS (S3_ENDPOINT set, e.g. Tigris) has no instance role to fall back on.
  if (env.STORAGE_DRIVER === "s3" && env.S3_ENDPOINT) {
    for (const name of ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const)
      if (!env[name]) issue(name, "required in production with S3_ENDPOINT");
  }
  const read = env as unknown as Record<string, string | undefined>;
  const prefixes = Object.values(PROVIDER_ACCOUNTS).map((a) => a.envPrefix);
  for (const name of prefixes.map((p) => `${p}_API_KEY`)) {
    const key = read[name];
    if (!key) issue(name, "required in production");
    else if (SIMULATOR_KEY.test(key)) issue(name, "is a simulator key; production needs the real key");
  }
  for (const name of prefixes.map((p) => `${p}_BASE_URL`)) {
    const url = read[name];
    if (!url) issue(name, "required in production");
    else if (!url.startsWith("https://")) issue(name, "must be an https URL in production");
  }
}

function checkMediaVolume(env: IdentificationEnv, issue: (path: string, message: string) => void): void {
  const volume = env.MEDIA_VOLUME?.replace(/\/+$/, "");
  if (!volume) {
    issue(
      "STORAGE_DRIVER",
      "local storage in production needs a volume: use STORAGE_DRIVER=s3, or mount a volume and set MEDIA_VOLUME to its path",
    );
  } else if (!resolve(env.MEDIA_DIR).startsWith(`${resolve(volume)}/`)) {
    issue("MEDIA_DIR", `must be inside MEDIA_VOLUME (${volume}) in production`);
  }
}

export function identificationConfig(e: IdentificationEnv): IdentificationConfig {
  return {
    storage: {
      driver: e.STORAGE_DRIVER,
      localDir: e.MEDIA_DIR,
      publicBaseUrl: e.MEDIA_PUBLIC_BASE_URL?.replace(/\/+$/, ""),
      s3: {
        endpoint: e.S3_ENDPOINT,
        bucket: e.S3_BUCKET ?? "",
        region: e.S3_REGION,
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        timeoutMs: e.S3_TIMEOUT_MS,
      },
    },
    uploads: {
      maxFileBytes: e.UPLOAD_MAX_FILE_BYTES,
      maxRequestBytes: e.UPLOAD_MAX_REQUEST_BYTES,
      maxImages: 5,
      minDimensionPx: e.IMAGE_MIN_DIMENSION_PX,
      maxPixels: e.IMAGE_MAX_PIXELS,
    },
    providers: providerSettings(e as unknown as Record<string, unknown>),
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    identifySyncWaitMs: e.IDENTIFY_SYNC_WAIT_MS,
    photoUnreferencedGraceSeconds: e.PHOTO_UNREFERENCED_GRACE_SECONDS,
  };
}

function providerSettings(e: Record<string, unknown>): IdentificationConfig["providers"] {
  const entries = PROVIDER_NAMES.map((name) => {
    const def: ProviderEntry = PROVIDER_REGISTRY[name];
    const account = PROVIDER_ACCOUNTS[def.account];
    const p = account.envPrefix;
    const settings: ProviderSettings = {
      account: def.account,
      apiKey: e[`${p}_API_KEY`] as string | undefined,
      baseUrl: (e[`${p}_BASE_URL`] as string | undefined) ?? account.publicBaseUrl,
      timeoutMs: e[def.timeoutEnv] as number,
      dailyQuota: e[`${p}_DAILY_QUOTA`] as number,
      hourlyQuota: e[`${p}_HOURLY_QUOTA`] as number,
      cacheTtlSeconds: e[`${p}_CACHE_TTL_SECONDS`] as number,
      ...(def.projectEnv ? { project: e[def.projectEnv] as string } : {}),
      ...("classificationLevel" in def ? { classificationLevel: def.classificationLevel as never } : {}),
    };
    return [def.reportKey, settings] as const;
  });
  return Object.fromEntries(entries) as IdentificationConfig["providers"];
}
