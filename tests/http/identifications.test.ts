import { describe, expect, test } from "bun:test";
import { stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import sharp from "sharp";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { photoReferenceCount } from "../../src/modules/photos/index.ts";
import { registerUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  postIdentification,
  uploadForm,
  useIdentifyApp,
} from "../helpers/identify.ts";
import { jpeg, jpegWithGps, notAPlantJpeg, png, webp } from "../helpers/images.ts";

const fx = useIdentifyApp();

async function created(res: Response) {
  expect(res.status).toBe(201);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  const body = IdentificationSchema.parse(await res.json());
  expect(res.headers.get("location")).toBe(`http://localhost/v1/identifications/${body.id}`);
  return body;
}

describe("POST /v1/identifications", () => {
  test("a photo is identified with merged, ranked suggestions linked to the catalogue, a health assessment and stored images", async () => {
    const user = await registerUser(fx.app);
    const res = await postIdentification(
      fx.app,
      user.headers,
      uploadForm([await jpeg()], { organs: "leaf", latitude: "50.08", longitude: "14.42" }),
    );
    const body = await created(res);

    expect(body.status).toBe("completed");
    expect(body.isPlant).toBe(true);
    expect(body.modelVersion).toBe("plant_id:3.6.0");
    expect(body.providers).toEqual({
      plantId: { status: "ok", cached: false },
      plantnet: { status: "ok", cached: false },
      plantIdHealth: { status: "ok", cached: false },
    });
    const probabilities = body.suggestions.map((s) => s.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    expect(body.suggestions.map((s) => s.rank)).toEqual(body.suggestions.map((_, i) => i + 1));
    expect(body.confidence).toBe(probabilities[0]!);
    // The simulator's PlantNet repeats Plant.id's top two species: they are merged, not listed twice.
    const names = body.suggestions.map((s) => s.scientificName.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    expect(
      body.suggestions.filter((s) => s.sources.includes("plant_id") && s.sources.includes("plantnet")).length,
    ).toBe(2);
    expect(body.suggestions.some((s) => s.sources.length === 1 && s.sources[0] === "plantnet")).toBe(true);
    // Every simulated species comes from our seeded catalogue.
    for (const s of body.suggestions) expect(s.speciesId).toBeString();
    const top = await fx.app.deps.db.primary
      .selectFrom("species")
      .select("scientific_name")
      .where("id", "=", body.suggestions[0]!.speciesId!)
      .executeTakeFirstOrThrow();
    expect(top.scientific_name).toBe(body.suggestions[0]!.scientificName);
    expect(body.health?.diseases.length).toBeGreaterThan(0);
    expect(fx.sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 1, plantnet: 1 });

    const row = await fx.app.deps.db.primary
      .selectFrom("identifications")
      .selectAll()
      .where("id", "=", body.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      user_id: user.user.id,
      status: "completed",
      model_version: "plant_id:3.6.0",
      confidence: body.confidence,
      top_species_id: body.suggestions[0]!.speciesId!,
    });
    const media = await fx.app.deps.db.primary
      .selectFrom("media")
      .selectAll()
      .where("identification_id", "=", body.id)
      .execute();
    expect(media).toHaveLength(1);
    expect(await filesUnder(fx.dir)).toEqual(
      expect.arrayContaining([media[0]!.storage_key, media[0]!.thumbnail_key]),
    );
    // Private photos (issue #13): signed, expiring URLs of the media route, by identification and media id.
    const signed = /\?expires=\d+&signature=[\w-]+$/;
    expect(body.images).toEqual([
      {
        url: expect.stringMatching(signed),
        thumbnailUrl: expect.stringMatching(signed),
        width: 640,
        height: 480,
      },
    ]);
    expect(body.images[0]!.url).toStartWith(
      `http://localhost/v1/media/identifications/${body.id}/${media[0]!.id}.jpg?`,
    );
    expect(body.images[0]!.thumbnailUrl).toStartWith(
      `http://localhost/v1/media/identifications/${body.id}/${media[0]!.id}.thumb.jpg?`,
    );
  });

  test("stored images are re-encoded JPEGs without metadata (no GPS) and come with a small thumbnail", async () => {
    const user = await registerUser(fx.app);
    const original = await jpegWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const body = await created(await postIdentification(fx.app, user.headers, uploadForm([original])));

    const image = body.images[0]!;
    const stored = await fx.app.request(image.url);
    expect(stored.status).toBe(200);
    expect(stored.headers.get("content-type")).toBe("image/jpeg");
    // A user's photo: private (no shared cache keeps it), for as long as its signed URL lives.
    expect(stored.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    const storedMeta = await sharp(new Uint8Array(await stored.arrayBuffer())).metadata();
    expect(storedMeta.format).toBe("jpeg");
    expect(storedMeta.exif).toBeUndefined();
    expect(storedMeta.width).toBe(400);

    const thumb = await fx.app.request(image.thumbnailUrl);
    expect(thumb.status).toBe(200);
    const thumbMeta = await sharp(new Uint8Array(await thumb.arrayBuffer())).metadata();
    expect(Math.max(thumbMeta.width, thumbMeta.height)).toBeLessThanOrEqual(320);
    expect(thumbMeta.exif).toBeUndefined();
  });

  test("PNG and WebP photos are accepted and several images become one identification in upload order", async () => {
    const user = await registerUser(fx.app);
    const files = [
      await png({ width: 300, height: 200 }),
      await webp({ width: 200, height: 300 }),
      await jpeg({ width: 150, height: 150 }),
    ];
    const body = await created(
      await postIdentification(
        fx.app,
        user.headers,
        uploadForm(
          [
            { bytes: files[0]!, type: "image/png", name: "a.png" },
            { bytes: files[1]!, type: "image/webp", name: "b.webp" },
            files[2]!,
          ],
          {
            organs: ["flower", "leaf", "bark"],
          },
        ),
      ),
    );
    expect(body.images.map((i) => [i.width, i.height])).toEqual([
      [300, 200],
      [200, 300],
      [150, 150],
    ]);
    const media = await fx.app.deps.db.primary
      .selectFrom("media")
      .select(["position", "width"])
      .where("identification_id", "=", body.id)
      .orderBy("position")
      .execute();
    expect(media).toEqual([
      { position: 0, width: 300 },
      { position: 1, width: 200 },
      { position: 2, width: 150 },
    ]);
  });

  test("a large photo is stored at most 2048 px on its longest side", async () => {
    const user = await registerUser(fx.app);
    const body = await created(
      await postIdentification(fx.app, user.headers, uploadForm([await jpeg({ width: 3000, height: 1500 })])),
    );
    expect(body.images[0]).toMatchObject({ width: 2048, height: 1024 });
  });

  test("includeHealth=false skips the health assessment", async () => {
    const user = await registerUser(fx.app);
    const body = await created(
      await postIdentification(fx.app, user.headers, uploadForm([await jpeg()], { includeHealth: "false" })),
    );
    expect(body.health).toBeUndefined();
    expect(body.providers.plantIdHealth).toBeUndefined();
    expect(fx.sim.control.calls("plant-id-health")).toBe(0);
  });

  test("a picture that is not a plant is answered with isPlant false and PlantNet's no_match", async () => {
    const user = await registerUser(fx.app);
    const body = await created(
      await postIdentification(
        fx.app,
        user.headers,
        uploadForm([await notAPlantJpeg()], { includeHealth: "false" }),
      ),
    );
    expect(body.isPlant).toBe(false);
    expect(body.providers.plantnet).toEqual({ status: "no_match", cached: false });
    expect(body.providers.plantId.status).toBe("ok");
    expect(body.suggestions.every((s) => s.sources.length === 1 && s.sources[0] === "plant_id")).toBe(true);
    expect(body.confidence).toBeLessThan(0.1);
  });

  test("a photo is stored once however often it is uploaded: one object pair, referenced by each identification, not rewritten", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const first = await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    const keysOf = async (id: string) =>
      fx.app.deps.db.primary
        .selectFrom("media")
        .select(["storage_key", "thumbnail_key"])
        .where("identification_id", "=", id)
        .executeTakeFirstOrThrow();
    const stored = await keysOf(first.id);
    expect(stored.storage_key).toMatch(/^photos\/[0-9a-f]{64}\.jpg$/);
    const writtenAt = (await stat(join(fx.dir, stored.storage_key))).mtimeMs;

    // The same bytes again: found by their hash, neither decoded nor written again.
    const second = await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    expect((await stat(join(fx.dir, stored.storage_key))).mtimeMs).toBe(writtenAt);
    // The same picture in other bytes (a JPEG comment added): decoded, and stored under the same content key.
    const commented = new Uint8Array(photo.length + 8);
    commented.set(photo.subarray(0, 2));
    commented.set([0xff, 0xfe, 0x00, 0x06, 0x6c, 0x65, 0x61, 0x66], 2);
    commented.set(photo.subarray(2), 10);
    const third = await created(await postIdentification(fx.app, user.headers, uploadForm([commented])));
    for (const other of [second, third]) expect(await keysOf(other.id)).toEqual(stored);
    expect(await photoReferenceCount(fx.app.deps.db.primary, stored.storage_key)).toBe(3);
    // Each identification has its own image URLs, served from the shared object.
    expect(new Set([first, second, third].map((i) => i.images[0]!.url)).size).toBe(3);
    const image = await fx.app.request(third.images[0]!.url);
    expect(image.status).toBe(200);
    expect(new Uint8Array(await image.arrayBuffer())).toEqual(
      new Uint8Array(await Bun.file(join(fx.dir, stored.storage_key)).arrayBuffer()),
    );
  });

  test("a photo reused a day or more after its objects were written is written again, so the bucket ages it from its last use", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const first = await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    const media = await fx.app.deps.db.primary
      .selectFrom("media")
      .select(["storage_key", "thumbnail_key"])
      .where("identification_id", "=", first.id)
      .executeTakeFirstOrThrow();
    const files = [media.storage_key, media.thumbnail_key].map((key) => join(fx.dir, key));
    const longAgo = new Date("2025-01-01T00:00:00Z");
    // As if stored two days ago: the row's write time and the files' (the local driver's object age).
    const ageBy = async (interval: string) => {
      await fx.app.deps.db.primary
        .updateTable("photos")
        .set({ objects_written_at: sql<Date>`now() - ${interval}::interval` })
        .where("storage_key", "=", media.storage_key)
        .execute();
      for (const file of files) await utimes(file, longAgo, longAgo);
    };
    const mtimes = () => Promise.all(files.map(async (file) => (await stat(file)).mtimeMs));

    await ageBy("2 days");
    const startedAt = Date.now() - 1_000;
    await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    for (const mtime of await mtimes()) expect(mtime).toBeGreaterThan(startedAt);
    const row = await fx.app.deps.db.primary
      .selectFrom("photos")
      .select("objects_written_at")
      .where("storage_key", "=", media.storage_key)
      .executeTakeFirstOrThrow();
    expect(row.objects_written_at.getTime()).toBeGreaterThan(startedAt);

    // Written less than a day ago: a reuse does not write it again.
    await ageBy("2 hours");
    await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    expect(await mtimes()).toEqual([longAgo.getTime(), longAgo.getTime()]);
  });

  test("the same photo again is answered from the cache without calling any provider", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const first = await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    const second = await created(await postIdentification(fx.app, user.headers, uploadForm([photo])));
    expect(second.id).not.toBe(first.id);
    expect(second.suggestions).toEqual(first.suggestions);
    expect(second.providers).toEqual({
      plantId: { status: "ok", cached: true },
      plantnet: { status: "ok", cached: true },
      plantIdHealth: { status: "ok", cached: true },
    });
    expect(fx.sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 1, plantnet: 1 });
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(2);
  });

  test("other organs for the same photo are a different PlantNet question but the same Plant.id one", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    await created(
      await postIdentification(
        fx.app,
        user.headers,
        uploadForm([photo], { organs: "leaf", includeHealth: "false" }),
      ),
    );
    const again = await created(
      await postIdentification(
        fx.app,
        user.headers,
        uploadForm([photo], { organs: "flower", includeHealth: "false" }),
      ),
    );
    expect(again.providers.plantId.cached).toBe(true);
    expect(again.providers.plantnet.cached).toBe(false);
    expect(fx.sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 0, plantnet: 2 });
  });

  test("the media route serves nothing outside stored identification images", async () => {
    // Unsigned: refused before anything is looked up.
    const res = await fx.app.request(
      `/v1/media/identifications/${crypto.randomUUID()}/${crypto.randomUUID()}.jpg`,
    );
    expect(res.status).toBe(403);
    const traversal = await fx.app.request(
      `/v1/media/identifications/${crypto.randomUUID()}/..%2F..%2Fetc%2Fpasswd`,
    );
    expect(traversal.status).toBe(400);
  });
});
