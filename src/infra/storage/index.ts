import type { Config } from "../../config/index.ts";
import type { Logger } from "../logger.ts";
import type { BlobStore } from "./blob-store.ts";
import { createLocalBlobStore } from "./local.ts";
import { loggedBlobStore } from "./logged.ts";
import { createS3BlobStore } from "./s3.ts";

export type { BlobStore, StoredBlob } from "./blob-store.ts";
export { IMMUTABLE_CACHE_CONTROL } from "./blob-store.ts";

/** The API path that serves stored images (local driver, or an s3 bucket without a CDN in front). */
export const MEDIA_ROUTE_PREFIX = "/v1/media";

export function mediaBaseUrl(config: Pick<Config, "storage" | "publicBaseUrl">): string {
  return (
    config.storage.publicBaseUrl ?? `${config.publicBaseUrl?.replace(/\/+$/, "") ?? ""}${MEDIA_ROUTE_PREFIX}`
  );
}

/** The configured driver; with a logger, every failed operation is logged with its cause (EACCES, S3 status). */
export function createBlobStore(
  config: Pick<Config, "storage" | "publicBaseUrl">,
  logger?: Logger,
): BlobStore {
  const base = mediaBaseUrl(config);
  const store =
    config.storage.driver === "s3"
      ? createS3BlobStore({ ...config.storage.s3, mediaBaseUrl: base })
      : createLocalBlobStore({ rootDir: config.storage.localDir, mediaBaseUrl: base });
  return logger ? loggedBlobStore(store, logger) : store;
}
