import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, parseReleaseConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/infra/logger.ts";
import { createBlobStore } from "../../src/infra/storage/index.ts";

const production = {
  NODE_ENV: "production",
  PUBLIC_BASE_URL: "https://api.plant.community",
  JWT_SECRET: "x".repeat(40),
  MEDIA_URL_SECRET: "m".repeat(40),
  DATABASE_URL: "postgres://app@db.internal:5432/plant_community",
  REDIS_URL: "redis://redis.internal:6379",
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

describe("storage in production", () => {
  test("the local driver is refused without a declared volume, since a Machine's disk is lost on deploy", () => {
    expect(problems({ ...production, STORAGE_DRIVER: "local" })).toContain(
      "STORAGE_DRIVER: local storage in production needs a volume",
    );
  });

  test("the local driver is accepted with MEDIA_DIR inside the declared volume, refused outside it", () => {
    expect(problems({ ...production, MEDIA_VOLUME: "/data", MEDIA_DIR: "/data/media" })).toBe("");
    expect(problems({ ...production, MEDIA_VOLUME: "/data", MEDIA_DIR: "/app/.data/media" })).toContain(
      "MEDIA_DIR: must be inside MEDIA_VOLUME",
    );
  });

  test("an S3-compatible endpoint needs both keys; outside production nothing is required", () => {
    const s3 = { STORAGE_DRIVER: "s3", S3_BUCKET: "media", S3_ENDPOINT: "https://fly.storage.tigris.dev" };
    const message = problems({ ...production, ...s3 });
    expect(message).toContain("S3_ACCESS_KEY_ID: required in production");
    expect(message).toContain("S3_SECRET_ACCESS_KEY: required in production");
    expect(problems({ ...production, ...s3, S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s" })).toBe("");
    expect(problems({ NODE_ENV: "development", STORAGE_DRIVER: "local" })).toBe("");
  });
});

describe("endpoints in production", () => {
  test("missing DATABASE_URL and REDIS_URL stop the process instead of defaulting to 127.0.0.1", () => {
    const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = production;
    const message = problems({ ...rest, MEDIA_VOLUME: "/data", MEDIA_DIR: "/data/m" });
    expect(message).toContain("DATABASE_URL: required in production");
    expect(message).toContain("REDIS_URL: required in production");
  });

  test("a worker of the fast lane needs SMTP_URL; one of the default lane does not", () => {
    const env = { ...production, MEDIA_VOLUME: "/data", MEDIA_DIR: "/data/m" };
    expect(problems({ ...env, WORKER_QUEUES: "fast" })).toContain("SMTP_URL: required in production");
    expect(problems({ ...env, WORKER_QUEUES: "default" })).toBe("");
  });

  test("the release step needs DATABASE_URL only", () => {
    expect(parseReleaseConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://db/x" })).toEqual({
      databaseUrl: "postgres://db/x",
    });
    expect(() => parseReleaseConfig({ NODE_ENV: "production" })).toThrow("DATABASE_URL: required");
  });
});

describe("storage failures", () => {
  test("are logged with their cause (the system error code) before the client gets its 503", async () => {
    const dir = await mkdtemp(join(tmpdir(), "plantc-storage-"));
    try {
      // A file where the media directory should be: every write fails, even as root.
      const blocked = join(dir, "media");
      await writeFile(blocked, "not a directory");
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger("info", {
        write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
      });
      const config = parseConfig({ STORAGE_DRIVER: "local", MEDIA_DIR: blocked });
      const store = createBlobStore(config, logger);
      await expect(store.put("identifications/x.jpg", new Uint8Array([1]), "image/jpeg")).rejects.toThrow();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: "error",
        message: "storage operation failed",
        driver: "local",
        op: "put",
        key: "identifications/x.jpg",
        err: { code: "ENOTDIR" },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
