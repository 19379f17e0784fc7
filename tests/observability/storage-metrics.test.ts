import { describe, expect, test } from "bun:test";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Registry } from "prom-client";
import { instrumentedBlobStore } from "../../src/infra/storage/instrumented.ts";
import { createS3BlobStore } from "../../src/infra/storage/s3.ts";
import { prefixOf } from "../../src/infra/storage/storage-metrics.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { bearer, registerUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { filesUnder, postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { metricValue } from "./metric-value.ts";

// With a CDN in front (MEDIA_PUBLIC_BASE_URL), deleting an identification removes its objects at once.
const fx = useIdentifyApp({ MEDIA_PUBLIC_BASE_URL: "https://cdn.example.test/media" });

const value = (name: string, prefix: string) => metricValue(fx.app.deps.metrics.registry, name, { prefix });

describe("storage metrics", () => {
  test("a new photo's original and thumbnail count as written under photos/, and as deleted with their bytes", async () => {
    const user = await registerUser(fx.app);
    const before = {
      objects: await value("storage_objects_written_total", "photos"),
      bytes: await value("storage_bytes_written_total", "photos"),
      deleted: await value("storage_objects_deleted_total", "photos"),
      freed: await value("storage_bytes_deleted_total", "photos"),
    };
    const res = await postIdentification(fx.app, user.headers, uploadForm([await jpeg()]));
    expect(res.status).toBe(201);
    const { id } = IdentificationSchema.parse(await res.json());
    // Photos are content-addressed: the objects are named by the stripped image's hash, found from the media row.
    const [row] = await fx.app.deps.db.primary
      .selectFrom("media")
      .select(["storage_key", "thumbnail_key"])
      .where("identification_id", "=", id)
      .execute();
    const files = [row!.storage_key, row!.thumbnail_key];
    expect((await filesUnder(fx.dir)).filter((f) => files.includes(f))).toHaveLength(2);
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(fx.dir, f))).size));
    const total = sizes.reduce((a, b) => a + b, 0);

    expect(await value("storage_objects_written_total", "photos")).toBe(before.objects + 2);
    expect(await value("storage_bytes_written_total", "photos")).toBe(before.bytes + total);

    const del = await fx.app.request(`/v1/identifications/${id}`, {
      method: "DELETE",
      headers: bearer(user.accessToken),
    });
    expect(del.status).toBe(204);
    expect((await filesUnder(fx.dir)).filter((f) => files.includes(f))).toEqual([]);
    expect(await value("storage_objects_deleted_total", "photos")).toBe(before.deleted + 2);
    expect(await value("storage_bytes_deleted_total", "photos")).toBe(before.freed + total);
  });

  test("on S3, a delete counts the bytes the bucket held and skips keys that were not there", async () => {
    const s3 = testEnv.s3;
    const registry = new Registry();
    const store = instrumentedBlobStore(
      createS3BlobStore({ ...s3, forcePathStyle: true, timeoutMs: 5_000, mediaBaseUrl: "http://x" }),
      registry,
    );
    const key = `species/${crypto.randomUUID()}.webp`;
    await store.put(key, new Uint8Array(1234), "image/webp");
    await store.delete([key, `species/${crypto.randomUUID()}.webp`]);
    const read = (name: string) => metricValue(registry, name, { prefix: "species" });
    expect(await read("storage_objects_written_total")).toBe(1);
    expect(await read("storage_bytes_written_total")).toBe(1234);
    expect(await read("storage_objects_deleted_total")).toBe(1);
    expect(await read("storage_bytes_deleted_total")).toBe(1234);
    expect(await store.get(key)).toBeUndefined();
  });

  test("the prefix label is one of a fixed few, whatever the key", () => {
    expect(prefixOf("identifications/a/b.jpg")).toBe("identifications");
    expect(prefixOf("uploads/x")).toBe("uploads");
    expect(prefixOf("species/a.webp")).toBe("species");
    expect(prefixOf("somewhere-new/a.jpg")).toBe("other");
    expect(prefixOf("identifications")).toBe("other");
  });
});
