import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { parseConfig } from "../../src/config/index.ts";
import type { BlobStore } from "../../src/infra/storage/blob-store.ts";
import { createBlobStore, mediaBaseUrl } from "../../src/infra/storage/index.ts";
import { createLocalBlobStore } from "../../src/infra/storage/local.ts";
import { createS3BlobStore } from "../../src/infra/storage/s3.ts";
import { testEnv } from "../helpers/env.ts";
import { jpeg } from "../helpers/images.ts";
import { s3Client } from "../helpers/s3-bucket.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "plantc-storage-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function readAll(body: ReadableStream<Uint8Array> | Uint8Array): Promise<Uint8Array> {
  return body instanceof Uint8Array ? body : new Uint8Array(await new Response(body).arrayBuffer());
}

const s3 = () => testEnv.s3;
const rawS3 = s3Client;

const drivers: [string, () => BlobStore][] = [
  ["local", () => createLocalBlobStore({ rootDir: dir, mediaBaseUrl: "/v1/media" })],
  [
    "s3",
    () =>
      createS3BlobStore({
        ...s3(),
        forcePathStyle: true,
        timeoutMs: 5_000,
        mediaBaseUrl: "https://cdn.example.test/media",
      }),
  ],
];

for (const [name, make] of drivers) {
  describe(`the ${name} blob store`, () => {
    test("stores bytes under a key and reads exactly those bytes back with their type", async () => {
      const store = make();
      const bytes = await jpeg();
      const key = `identifications/${crypto.randomUUID()}/${crypto.randomUUID()}.jpg`;
      await store.put(key, bytes, "image/jpeg");
      const blob = await store.get(key);
      expect(blob?.contentType).toBe("image/jpeg");
      expect(blob?.size).toBe(bytes.length);
      expect(await readAll(blob!.body)).toEqual(bytes);
    });

    test("a key with nothing stored reads as undefined", async () => {
      expect(await make().get(`identifications/${crypto.randomUUID()}/missing.jpg`)).toBeUndefined();
    });

    test("deleting removes the objects and tolerates keys that do not exist", async () => {
      const store = make();
      const keys = [1, 2].map(() => `identifications/${crypto.randomUUID()}/${crypto.randomUUID()}.jpg`);
      for (const key of keys) await store.put(key, await jpeg(), "image/jpeg");
      await store.delete([...keys, `identifications/${crypto.randomUUID()}/never.jpg`]);
      for (const key of keys) expect(await store.get(key)).toBeUndefined();
    });

    test("keys that could leave the store's root are refused before any I/O", async () => {
      const store = make();
      for (const key of ["../etc/passwd", "identifications/../../x.jpg", "/abs.jpg", "UPPER.jpg", ""]) {
        await expect(store.put(key, new Uint8Array([1]), "image/jpeg")).rejects.toThrow("invalid blob key");
        expect(() => store.publicUrl(key)).toThrow("invalid blob key");
      }
    });
  });
}

describe("the s3 driver against a real S3-compatible server", () => {
  test("objects land in the bucket intact, with their content type and a long immutable cache header", async () => {
    const store = drivers[1]![1]();
    const bytes = await jpeg({ width: 1200, height: 900 });
    const key = `identifications/${crypto.randomUUID()}/${crypto.randomUUID()}.jpg`;
    await store.put(key, bytes, "image/jpeg");
    const client = rawS3();
    const head = await client.send(new HeadObjectCommand({ Bucket: s3().bucket, Key: key }));
    expect(head.ContentType).toBe("image/jpeg");
    expect(head.CacheControl).toBe("public, max-age=31536000, immutable");
    expect(head.ContentLength).toBe(bytes.length);
    const got = await client.send(new GetObjectCommand({ Bucket: s3().bucket, Key: key }));
    expect(await got.Body!.transformToByteArray()).toEqual(bytes);
    expect(store.publicUrl(key)).toBe(`https://cdn.example.test/media/${key}`);
  });

  test("refreshing copies each object onto itself: same bytes, type and cache header, the bucket accepts it", async () => {
    const store = drivers[1]![1]();
    const bytes = await jpeg({ width: 300, height: 200 });
    const key = `photos/${crypto.randomUUID()}.jpg`;
    await store.put(key, bytes, "image/jpeg");
    await store.refresh([key]);
    const client = rawS3();
    const head = await client.send(new HeadObjectCommand({ Bucket: s3().bucket, Key: key }));
    expect(head.ContentType).toBe("image/jpeg");
    expect(head.CacheControl).toBe("public, max-age=31536000, immutable");
    const got = await client.send(new GetObjectCommand({ Bucket: s3().bucket, Key: key }));
    expect(await got.Body!.transformToByteArray()).toEqual(bytes);
  });

  test("a store that cannot be reached fails within its deadline instead of hanging", async () => {
    const store = createS3BlobStore({
      ...s3(),
      endpoint: "http://127.0.0.1:9",
      forcePathStyle: true,
      timeoutMs: 500,
      mediaBaseUrl: "",
    });
    const started = performance.now();
    await expect(store.put("identifications/x.jpg", new Uint8Array([1]), "image/jpeg")).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe("choosing a driver from the configuration", () => {
  test("local is the default and its URLs point to the API's media path under PUBLIC_BASE_URL", () => {
    const config = parseConfig({ PUBLIC_BASE_URL: "https://api.example.test", MEDIA_DIR: dir });
    expect(config.storage.driver).toBe("local");
    const store = createBlobStore(config);
    expect(store.driver).toBe("local");
    expect(store.publicUrl("identifications/a/b.jpg")).toBe(
      "https://api.example.test/v1/media/identifications/a/b.jpg",
    );
  });

  test("s3 takes its endpoint, bucket, credentials and path style from the environment; MEDIA_PUBLIC_BASE_URL names the CDN", () => {
    const config = parseConfig({
      STORAGE_DRIVER: "s3",
      S3_ENDPOINT: s3().endpoint,
      S3_BUCKET: s3().bucket,
      S3_REGION: "eu-central-1",
      S3_ACCESS_KEY_ID: "id",
      S3_SECRET_ACCESS_KEY: "secret",
      S3_FORCE_PATH_STYLE: "true",
      MEDIA_PUBLIC_BASE_URL: "https://media.example.test/",
    });
    expect(config.storage.s3).toMatchObject({
      bucket: s3().bucket,
      region: "eu-central-1",
      forcePathStyle: true,
      accessKeyId: "id",
    });
    expect(mediaBaseUrl(config)).toBe("https://media.example.test");
    expect(createBlobStore(config).driver).toBe("s3");
  });

  test("STORAGE_DRIVER=s3 without a bucket is refused at start-up", () => {
    expect(() => parseConfig({ STORAGE_DRIVER: "s3" })).toThrow("S3_BUCKET: required when STORAGE_DRIVER=s3");
  });
});
