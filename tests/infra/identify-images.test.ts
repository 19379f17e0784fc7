import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import {
  encodeForProviders,
  encodeForStorage,
  ImageRejectedError,
  providerSide,
  readImageHeader,
} from "../../src/infra/images/image-pipeline.ts";
import { sniffImageFormat } from "../../src/infra/images/magic-bytes.ts";
import { jpeg, jpegWithGps, png, pngBomb, truncatedJpeg, webp } from "../helpers/images.ts";

const limits = { minDimensionPx: 100, maxPixels: 50_000_000 };

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ImageRejectedError);
    return (err as ImageRejectedError).reason;
  }
  throw new Error("expected the image to be rejected");
}

describe("magic bytes", () => {
  test("JPEG, PNG and WebP are recognised by their first bytes", async () => {
    expect(sniffImageFormat(await jpeg())).toBe("jpeg");
    expect(sniffImageFormat(await png())).toBe("png");
    expect(sniffImageFormat(await webp())).toBe("webp");
  });

  test("anything else is not an image we take, whatever it is called", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(sniffImageFormat(enc("GIF89a...."))).toBeUndefined();
    expect(sniffImageFormat(enc("%PDF-1.7"))).toBeUndefined();
    expect(sniffImageFormat(enc("RIFF\0\0\0\0WAVEfmt "))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array())).toBeUndefined();
  });
});

describe("header checks, before any pixel is decoded", () => {
  test("reads the dimensions", async () => {
    expect(await readImageHeader(await jpeg({ width: 640, height: 480 }), "jpeg", limits)).toEqual({
      format: "jpeg",
      width: 640,
      height: 480,
    });
  });

  test("a side under the minimum is image_too_small", async () => {
    expect(await rejection(readImageHeader(await jpeg({ width: 400, height: 99 }), "jpeg", limits))).toBe(
      "image_too_small",
    );
  });

  test("more pixels than the limit is image_too_many_pixels, from a file of a few hundred bytes", async () => {
    const bomb = await pngBomb(8_000, 8_000);
    expect(await rejection(readImageHeader(bomb, "png", limits))).toBe("image_too_many_pixels");
  });

  test("bytes that only look like an image are invalid_image", async () => {
    const fake = new Uint8Array(64).fill(1);
    fake.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(await rejection(readImageHeader(fake, "png", limits))).toBe("invalid_image");
  });
});

describe("encoding", () => {
  test("the stored copy is a JPEG at most 2048 px, the thumbnail at most 320 px, the providers' copy at most 1024 px", async () => {
    const big = await jpeg({ width: 3000, height: 2000 });
    const { stored, thumbnail } = await encodeForStorage(big, limits);
    expect([stored.width, stored.height]).toEqual([2048, 1365]);
    expect([thumbnail.width, thumbnail.height]).toEqual([320, 213]);
    const forProviders = await sharp(await encodeForProviders(big, limits)).metadata();
    // 3000 px / 3: a whole-number shrink the JPEG decoder does while decoding.
    expect([forProviders.format, forProviders.width, forProviders.height]).toEqual(["jpeg", 1000, 667]);
  });

  test("the providers' side is at most 1024 px: the source's when smaller, else the source divided by a whole number when that keeps 768 px", () => {
    expect([640, 1024, 1025, 1536, 2000, 2048, 2049, 3000, 4032, 8000].map(providerSide)).toEqual([
      640, 1024, 1024, 768, 1000, 1024, 1024, 1000, 1008, 1000,
    ]);
  });

  test("small photos are not enlarged", async () => {
    const { stored } = await encodeForStorage(await jpeg({ width: 300, height: 200 }), limits);
    expect([stored.width, stored.height]).toEqual([300, 200]);
  });

  test("EXIF (camera, GPS) does not survive into any copy", async () => {
    const original = await jpegWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const { stored, thumbnail } = await encodeForStorage(original, limits);
    for (const bytes of [stored.bytes, thumbnail.bytes, await encodeForProviders(original, limits)]) {
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
    }
  });

  test("a photo taken sideways (EXIF orientation 6) is stored upright", async () => {
    const sideways = new Uint8Array(
      await sharp({ create: { width: 400, height: 200, channels: 3, background: { r: 10, g: 120, b: 30 } } })
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer(),
    );
    expect(await readImageHeader(sideways, "jpeg", limits)).toMatchObject({ width: 200, height: 400 });
    const { stored } = await encodeForStorage(sideways, limits);
    expect([stored.width, stored.height]).toEqual([200, 400]);
    expect((await sharp(stored.bytes).metadata()).orientation).toBeUndefined();
  });

  test("transparent areas of a PNG become white in the JPEG", async () => {
    const clear = new Uint8Array(
      await sharp({
        create: { width: 200, height: 200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
      })
        .png()
        .toBuffer(),
    );
    const { stored } = await encodeForStorage(clear, limits);
    const stats = await sharp(stored.bytes).stats();
    expect(stats.channels.map((c) => Math.round(c.mean))).toEqual([255, 255, 255]);
  });

  test("a truncated JPEG is invalid_image when decoded", async () => {
    const cut = await truncatedJpeg();
    await readImageHeader(cut, "jpeg", limits);
    expect(await rejection(encodeForStorage(cut, limits))).toBe("invalid_image");
    expect(await rejection(encodeForProviders(cut, limits))).toBe("invalid_image");
  });
});
