/** Where uploaded images live. Keys are relative paths such as `identifications/<id>.jpg`. */
export interface BlobStore {
  readonly driver: "local" | "s3";
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** undefined when there is no object under the key. */
  get(key: string): Promise<StoredBlob | undefined>;
  /** Removes the objects; keys that do not exist are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /** The object's size in bytes, undefined when there is none (storage metrics count bytes deleted with it). */
  size?(key: string): Promise<number | undefined>;
  /**
   * Writes each object again unchanged, so that its age (what the bucket's lifecycle rules count) starts over:
   * S3 copies it onto itself (server-side), the local driver touches its modification time.
   */
  refresh(keys: readonly string[]): Promise<void>;
  /** The URL clients fetch the object from. */
  publicUrl(key: string): string;
  /** S3 only: a presigned PUT that accepts exactly this type and size (and checksum) until it expires. */
  presignPut?(key: string, opts: PresignPutOptions): Promise<PresignedRequest>;
  /** S3 only: a presigned GET of the object, answered with this Cache-Control. */
  presignGet?(key: string, opts: { expiresInSeconds: number; cacheControl: string }): Promise<string>;
}

export type PresignPutOptions = {
  contentType: string;
  contentLength: number;
  /** Base64 SHA-256 the store checks the body against (S3's x-amz-checksum-sha256). */
  sha256Base64?: string;
  expiresInSeconds: number;
};

/** A request a client makes itself: the URL and the headers it must send with exactly these values. */
export type PresignedRequest = { url: string; headers: Record<string, string> };

export type StoredBlob = { body: ReadableStream<Uint8Array> | Uint8Array; contentType: string; size: number };

/** Objects never change under a key (a new upload gets a new key), so caches may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

const KEY = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

/** Keys are made by us, but a key that could climb out of the data directory must never reach a driver. */
export function assertSafeKey(key: string): void {
  if (!KEY.test(key) || key.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  }
}

export const CONTENT_TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
};

export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[key.split(".").pop() ?? ""] ?? "application/octet-stream";
}
