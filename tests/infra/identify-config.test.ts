import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";

const production = {
  NODE_ENV: "production",
  PUBLIC_BASE_URL: "https://api.plant.community",
  JWT_SECRET: "x".repeat(40),
  MEDIA_URL_SECRET: "m".repeat(40),
  DATABASE_URL: "postgres://app@db.internal:5432/plant_community",
  REDIS_URL: "redis://redis.internal:6379",
  STORAGE_DRIVER: "s3",
  S3_BUCKET: "plant-media",
};
const realProviders = {
  PLANT_ID_API_KEY: "pk-live-123",
  PLANT_ID_BASE_URL: "https://api.plant.id/v3",
  PLANTNET_API_KEY: "2b10live",
  PLANTNET_BASE_URL: "https://my-api.plantnet.org/v2",
};

function problems(env: Record<string, string>): string {
  try {
    parseConfig(env);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("provider configuration", () => {
  test("in production the app refuses to start without provider keys and base URLs", () => {
    const message = problems(production);
    for (const name of ["PLANT_ID_API_KEY", "PLANTNET_API_KEY", "PLANT_ID_BASE_URL", "PLANTNET_BASE_URL"]) {
      expect(message).toContain(`${name}: required in production`);
    }
  });

  test("in production simulator keys and plain-http base URLs are refused", () => {
    const message = problems({
      ...production,
      ...realProviders,
      PLANT_ID_API_KEY: "sim-plant-id-key",
      PLANTNET_BASE_URL: "http://127.0.0.1:4010/plantnet/v2",
    });
    expect(message).toContain("PLANT_ID_API_KEY: is a simulator key");
    expect(message).toContain("PLANTNET_BASE_URL: must be an https URL in production");
  });

  test("production with real keys and https base URLs starts, with deadlines of a few seconds and 24 h caching", () => {
    expect(problems({ ...production, ...realProviders })).toBe("");
    const config = parseConfig({ ...production, ...realProviders });
    expect(config.providers.plantId.timeoutMs).toBeLessThanOrEqual(10_000);
    expect(config.providers.plantnet.cacheTtlSeconds).toBe(86_400);
  });

  test("outside production missing keys are allowed and point at the public providers by default", () => {
    const config = parseConfig({ NODE_ENV: "development" });
    expect(config.providers.plantId).toMatchObject({
      apiKey: undefined,
      baseUrl: "https://api.plant.id/v3",
      timeoutMs: 6_000,
    });
    expect(config.providers.plantnet).toMatchObject({
      apiKey: undefined,
      baseUrl: "https://my-api.plantnet.org/v2",
      project: "k-world-flora",
    });
    expect(config.uploads).toMatchObject({
      maxFileBytes: 10 * 1024 * 1024,
      maxRequestBytes: 30 * 1024 * 1024,
      maxImages: 5,
    });
  });

  test("limits, deadlines, quotas and cache lifetimes are configurable", () => {
    const config = parseConfig({
      UPLOAD_MAX_FILE_BYTES: "2097152",
      PLANTNET_TIMEOUT_MS: "2500",
      PLANTNET_DAILY_QUOTA: "50",
      PLANT_ID_HOURLY_QUOTA: "7",
      PLANT_ID_CACHE_TTL_SECONDS: "3600",
      IDEMPOTENCY_TTL_SECONDS: "7200",
    });
    expect(config.uploads.maxFileBytes).toBe(2_097_152);
    expect(config.providers.plantnet).toMatchObject({ timeoutMs: 2_500, dailyQuota: 50 });
    expect(config.providers.plantId).toMatchObject({ hourlyQuota: 7, cacheTtlSeconds: 3_600 });
    expect(config.idempotencyTtlSeconds).toBe(7_200);
  });
});
