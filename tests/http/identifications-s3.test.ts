import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { identifyEnv, postIdentification, startSimulator, uploadForm } from "../helpers/identify.ts";
import { jpegWithGps } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { objectExists, s3StorageEnv } from "../helpers/s3-bucket.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let app: TestApp;
const _s3 = () => testEnv.s3;
beforeAll(async () => {
  sim = startSimulator();
  app = await createTestApp(identifyEnv(sim, "/nonexistent", s3StorageEnv()));
});
afterAll(async () => {
  await app.close();
  await sim.stop();
});

describe("identifications with images in an S3 bucket", () => {
  test("the stored copy and thumbnail go to the bucket, are served through the media route's presigned redirect, and stop after delete", async () => {
    const user = await registerUser(app);
    const res = await postIdentification(
      app,
      user.headers,
      uploadForm([await jpegWithGps()], { includeHealth: "false" }),
    );
    expect(res.status).toBe(201);
    const body = IdentificationSchema.parse(await res.json());
    const media = await app.deps.db.primary
      .selectFrom("media")
      .selectAll()
      .where("identification_id", "=", body.id)
      .executeTakeFirstOrThrow();
    expect(await objectExists(media.storage_key)).toBe(true);
    expect(await objectExists(media.thumbnail_key)).toBe(true);

    // Served from the bucket through a short presigned GET the media route redirects to.
    const redirect = await app.request(body.images[0]!.url);
    expect(redirect.status).toBe(302);
    const image = await fetch(redirect.headers.get("location")!);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/jpeg");
    const meta = await sharp(new Uint8Array(await image.arrayBuffer())).metadata();
    expect(meta.exif).toBeUndefined();

    expect(
      (await app.request(`/v1/identifications/${body.id}`, { method: "DELETE", headers: user.headers }))
        .status,
    ).toBe(204);
    await expectProblem(await app.request(body.images[0]!.url), 404, "not_found");
  });
});
