import type { Metadata, Sharp, SharpOptions } from "sharp";
import { lazyModule } from "../lazy-module.ts";
import { withSpan } from "../tracing/spans.ts";
import { withImageSlot } from "./image-slots.ts";
import type { ImageFormat } from "./magic-bytes.ts";

// Loaded on the first image handled: the API starts without libvips (src/infra/lazy-module.ts).
const loadSharp = lazyModule(() => require("sharp") as typeof import("sharp").default);
const sharp = (bytes: Uint8Array, options: SharpOptions): Sharp => loadSharp()(bytes, options);

export type ImageLimits = { minDimensionPx: number; maxPixels: number };

export type ImageRejection = "invalid_image" | "image_too_small" | "image_too_many_pixels";

export class ImageRejectedError extends Error {
  override readonly name = "ImageRejectedError";
  constructor(
    readonly reason: ImageRejection,
    message: string,
  ) {
    super(message);
  }
}

/** Longest side of the stored copy: plenty for a photo viewer, and it bounds storage for 50 MP uploads. */
export const STORED_MAX_SIDE_PX = 2048;
export const THUMBNAIL_MAX_SIDE_PX = 320;
/** PlantNet expects JPEG with the longest side at most 1024 px; Plant.id gets the same bytes. */
export const PROVIDER_MAX_SIDE_PX = 1024;

export type ImageHeader = { format: ImageFormat; width: number; height: number };
export type EncodedImage = { bytes: Uint8Array; width: number; height: number; contentType: "image/jpeg" };

function open(bytes: Uint8Array, limits: ImageLimits): Sharp {
  // limitInputPixels makes libvips refuse a decompression bomb before allocating it.
  return sharp(bytes, {
    limitInputPixels: limits.maxPixels,
    failOn: "error",
    sequentialRead: true,
  }).autoOrient();
}

/** Reads only the header: dimensions are checked before any pixel is decoded. */
export async function readImageHeader(
  bytes: Uint8Array,
  format: ImageFormat,
  limits: ImageLimits,
): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageRejectedError("invalid_image", "The file could not be read as an image.");
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new ImageRejectedError("invalid_image", "The image has no dimensions.");
  if (width * height > limits.maxPixels) {
    throw new ImageRejectedError(
      "image_too_many_pixels",
      `The image is ${width}x${height}; at most ${limits.maxPixels / 1_000_000} megapixels are accepted.`,
    );
  }
  if (Math.min(width, height) < limits.minDimensionPx) {
    throw new ImageRejectedError(
      "image_too_small",
      `The image is ${width}x${height}; both sides must be at least ${limits.minDimensionPx} px.`,
    );
  }
  return { format, width, height };
}

async function encode(pipeline: Sharp, maxSide: number, quality: number): Promise<EncodedImage> {
  try {
    const { data, info } = await withSpan("image encode", { "plant.image.max_side": maxSide }, () =>
      withImageSlot(() =>
        pipeline
          .resize(maxSide, maxSide, { fit: "inside", withoutEnlargement: true })
          // White behind transparent PNG/WebP areas; JPEG has no alpha. No metadata is copied (no EXIF, no GPS).
          .flatten({ background: "#ffffff" })
          .jpeg({ quality, optimiseCoding: false })
          .toBuffer({ resolveWithObject: true }),
      ),
    );
    return {
      bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      contentType: "image/jpeg",
    };
  } catch (err) {
    if (err instanceof ImageRejectedError) throw err;
    throw new ImageRejectedError(
      "invalid_image",
      "The image data is damaged or incomplete and could not be decoded.",
    );
  }
}

/**
 * An upload decoded once for every copy made of it (providers', stored, thumbnail): auto-rotated, at most
 * STORED_MAX_SIDE_PX, flattened on white, 8 bits per channel, no metadata. These are exactly the stored copy's
 * pixels, so that copy encodes to the same bytes (and content address) as when it was made straight from the
 * upload. At most 2048 x 2048 x 3 bytes (12 MB), held only while the copies are made.
 */
export type DecodedPhoto = { data: Uint8Array; width: number; height: number; channels: 1 | 2 | 3 | 4 };

export async function decodePhoto(bytes: Uint8Array, limits: ImageLimits): Promise<DecodedPhoto> {
  try {
    const { data, info } = await withSpan("image decode", {}, () =>
      withImageSlot(() =>
        open(bytes, limits)
          .resize(STORED_MAX_SIDE_PX, STORED_MAX_SIDE_PX, { fit: "inside", withoutEnlargement: true })
          .flatten({ background: "#ffffff" })
          .raw()
          .toBuffer({ resolveWithObject: true }),
      ),
    );
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch {
    throw new ImageRejectedError(
      "invalid_image",
      "The image data is damaged or incomplete and could not be decoded.",
    );
  }
}

const fromPixels = (d: DecodedPhoto): Sharp =>
  sharp(d.data, { raw: { width: d.width, height: d.height, channels: d.channels } });

/**
 * The copy we store and its thumbnail: decoded, auto-rotated, re-encoded, metadata stripped. From `decoded`
 * when the upload was decoded already (for the providers' copy), else decoded here: one decode either way.
 */
export async function encodeForStorage(bytes: Uint8Array, limits: ImageLimits, decoded?: DecodedPhoto) {
  const pixels = decoded ?? (await decodePhoto(bytes, limits));
  const [stored, thumbnail] = await Promise.all([
    encode(fromPixels(pixels), STORED_MAX_SIDE_PX, 85),
    encode(fromPixels(pixels), THUMBNAIL_MAX_SIDE_PX, 75),
  ]);
  return { stored, thumbnail };
}

/** What the providers receive, from the decoded upload: a JPEG whose longest side is at most 1024 px. */
export async function encodeDecodedForProviders(decoded: DecodedPhoto): Promise<Uint8Array> {
  return (await encode(fromPixels(decoded), providerSide(Math.max(decoded.width, decoded.height)), 85)).bytes;
}

/**
 * The longest side for the providers' copy: at most 1024 px, and where that keeps at least 768 px, the source
 * divided by a whole number (a plain box shrink). Note that sharp 0.35 shrinks a JPEG while decoding only when
 * the factor's whole part exceeds the load shrink (3000 px -> 1000 px loads at 1/2; 2000 px -> 1000 px decodes
 * every pixel): measured here, a 2000 px photo costs the same either way.
 */
export function providerSide(longest: number): number {
  if (longest <= PROVIDER_MAX_SIDE_PX) return longest;
  const divided = Math.floor(longest / Math.ceil(longest / PROVIDER_MAX_SIDE_PX));
  return divided >= 768 ? divided : PROVIDER_MAX_SIDE_PX;
}

/** What the providers receive: a JPEG whose longest side is at most 1024 px. Fully decodes the upload. */
export async function encodeForProviders(bytes: Uint8Array, limits: ImageLimits): Promise<Uint8Array> {
  const meta = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  const longest = Math.max(meta?.width ?? PROVIDER_MAX_SIDE_PX, meta?.height ?? PROVIDER_MAX_SIDE_PX);
  return (await encode(open(bytes, limits), providerSide(longest), 85)).bytes;
}
