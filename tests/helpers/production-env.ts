/**
 * The environment a process gets on Fly (fly.toml's [env] plus the documented secrets), with each secret pointing
 * at the test run's real servers instead: a process started with it runs in its production configuration.
 */
import { readFlyToml } from "./fly-files.ts";

export type ProductionEndpoints = {
  databaseUrl: string;
  replicaUrl?: string;
  redisUrl: string;
  redisKeyPrefix: string;
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The provider simulator served over https (production refuses plain http provider URLs). */
  providers: { plantIdBaseUrl: string; plantnetBaseUrl: string; caPath: string };
  smtpUrl: string;
  publicBaseUrl: string;
};

/** Keys the simulator is started with: not `sim-` keys, which production refuses. */
export const LIVE_PROVIDER_KEYS = { plantId: "live-plant-id-test-key", plantnet: "live-plantnet-test-key" };

export function productionEnv(e: ProductionEndpoints): Record<string, string> {
  return {
    ...readFlyToml().env,
    DATABASE_URL: e.databaseUrl,
    ...(e.replicaUrl ? { DATABASE_REPLICA_URL: e.replicaUrl } : {}),
    REDIS_URL: e.redisUrl,
    REDIS_KEY_PREFIX: e.redisKeyPrefix,
    JWT_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
    MEDIA_URL_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
    PLANT_ID_API_KEY: LIVE_PROVIDER_KEYS.plantId,
    PLANTNET_API_KEY: LIVE_PROVIDER_KEYS.plantnet,
    PLANT_ID_BASE_URL: e.providers.plantIdBaseUrl,
    PLANTNET_BASE_URL: e.providers.plantnetBaseUrl,
    NODE_EXTRA_CA_CERTS: e.providers.caPath,
    S3_ENDPOINT: e.s3.endpoint,
    S3_BUCKET: e.s3.bucket,
    S3_REGION: e.s3.region,
    S3_ACCESS_KEY_ID: e.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: e.s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
    SMTP_URL: e.smtpUrl,
    PUBLIC_BASE_URL: e.publicBaseUrl,
    // Servers we start listen on loopback only.
    HOST: "127.0.0.1",
    METRICS_HOST: "127.0.0.1",
  };
}
