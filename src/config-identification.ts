import { resolve } from "node:path";
import { z } from "zod";

const int = (min: number) => z.coerce.number().int().min(min);
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalText = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);
const optionalUrl = optionalText.pipe(z.string().url().optional());

export const PLANT_ID_PUBLIC_BASE_URL = "https://api.plant.id/v3";
export const PLANTNET_PUBLIC_BASE_URL = "https://my-api.plantnet.org/v2";
/** Keys the provider simulator accepts by default; never valid against the real providers. */
const SIMULATOR_KEY = /^sim-/;

/** Environment of uploads, storage and the identification providers; merged into the one schema in config.ts. */
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

  PLANT_ID_API_KEY: optionalText,
  PLANT_ID_BASE_URL: optionalUrl,
  PLANT_ID_TIMEOUT_MS: int(100).default(6_000),
  PLANT_ID_HEALTH_TIMEOUT_MS: int(100).default(6_000),
  PLANT_ID_DAILY_QUOTA: int(0).default(1_000),
  PLANT_ID_HOURLY_QUOTA: int(0).default(200),
  PLANT_ID_CACHE_TTL_SECONDS: int(1).default(86_400),
  PLANTNET_API_KEY: optionalText,
  PLANTNET_BASE_URL: optionalUrl,
  PLANTNET_PROJECT: z.string().default("k-world-flora"),
  PLANTNET_TIMEOUT_MS: int(100).default(5_000),
  PLANTNET_DAILY_QUOTA: int(0).default(500),
  PLANTNET_HOURLY_QUOTA: int(0).default(100),
  PLANTNET_CACHE_TTL_SECONDS: int(1).default(86_400),
  IDEMPOTENCY_TTL_SECONDS: int(60).default(86_400),
  // How long a synchronous identification waits for the providers (issue 10, a hanging provider): shorter than
  // the providers' own deadlines so a client is answered in bounded time; the calls go on and fill the cache.
  IDENTIFY_SYNC_WAIT_MS: int(100).default(1_200),
  // Unreferenced stored photos (content-addressed, shared) are deleted by media.purge after this grace.
  PHOTO_UNREFERENCED_GRACE_SECONDS: int(300).default(3_600),
};

type IdentificationEnv = z.infer<z.ZodObject<typeof IdentificationEnvShape>>;

export type ProviderSettings = Readonly<{
  /** undefined: not configured, the provider is reported as skipped. */
  apiKey: string | undefined;
  baseUrl: string;
  timeoutMs: number;
  /** 0 means no budget (unlimited). */
  dailyQuota: number;
  hourlyQuota: number;
  cacheTtlSeconds: number;
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
  providers: Readonly<{
    plantId: ProviderSettings & Readonly<{ healthTimeoutMs: number }>;
    plantnet: ProviderSettings & Readonly<{ project: string }>;
  }>;
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
  for (const name of ["PLANT_ID_API_KEY", "PLANTNET_API_KEY"] as const) {
    const key = env[name];
    if (!key) issue(name, "required in production");
    else if (SIMULATOR_KEY.test(key)) issue(name, "is a simulator key; production needs the real key");
  }
  for (const name of ["PLANT_ID_BASE_URL", "PLANTNET_BASE_URL"] as const) {
    const url = env[name];
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
    providers: {
      plantId: {
        apiKey: e.PLANT_ID_API_KEY,
        baseUrl: e.PLANT_ID_BASE_URL ?? PLANT_ID_PUBLIC_BASE_URL,
        timeoutMs: e.PLANT_ID_TIMEOUT_MS,
        healthTimeoutMs: e.PLANT_ID_HEALTH_TIMEOUT_MS,
        dailyQuota: e.PLANT_ID_DAILY_QUOTA,
        hourlyQuota: e.PLANT_ID_HOURLY_QUOTA,
        cacheTtlSeconds: e.PLANT_ID_CACHE_TTL_SECONDS,
      },
      plantnet: {
        apiKey: e.PLANTNET_API_KEY,
        baseUrl: e.PLANTNET_BASE_URL ?? PLANTNET_PUBLIC_BASE_URL,
        project: e.PLANTNET_PROJECT,
        timeoutMs: e.PLANTNET_TIMEOUT_MS,
        dailyQuota: e.PLANTNET_DAILY_QUOTA,
        hourlyQuota: e.PLANTNET_HOURLY_QUOTA,
        cacheTtlSeconds: e.PLANTNET_CACHE_TTL_SECONDS,
      },
    },
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    identifySyncWaitMs: e.IDENTIFY_SYNC_WAIT_MS,
    photoUnreferencedGraceSeconds: e.PHOTO_UNREFERENCED_GRACE_SECONDS,
  };
}
