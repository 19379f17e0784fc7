import type { Config } from "../../config/index.ts";
import { AppError, type FieldError } from "../../core/app-error.ts";
import { type ImageFormat, sniffImageFormat } from "../../infra/images/magic-bytes.ts";
import { ORGANS, type Organ } from "./identifications.schemas.ts";

/** One photo as a transport hands it over: the decoded bytes, and what the client said about them. */
export type PhotoInput = { bytes: Uint8Array; contentType?: string; filename?: string };

/**
 * What the identification services take from any transport (REST multipart, GraphQL, legacy adapter). Plain
 * values: no Request, no form. `organs` empty or absent means "auto" for every photo.
 */
export type IdentificationInput = {
  photos: ReadonlyArray<PhotoInput>;
  organs?: readonly Organ[];
  latitude?: number;
  longitude?: number;
  /** Defaults to true. */
  includeHealth?: boolean;
};

export type UploadedImage = { bytes: Uint8Array; sha256: string; format: ImageFormat };

/** A checked input: every photo a JPEG, PNG or WebP by its own bytes, hashed, one organ per photo. */
export type IdentificationUpload = {
  images: UploadedImage[];
  organs: Organ[];
  latitude: number | undefined;
  longitude: number | undefined;
  includeHealth: boolean;
};

export type PhotoLimits = Pick<Config["uploads"], "maxImages" | "maxFileBytes">;

const invalid = (errors: FieldError[]) =>
  new AppError("validation_failed", "One or more fields are invalid.", { errors });

/**
 * The rules every transport's input obeys. The REST reader applies them already while the body streams in (so
 * it can refuse early, with `form.` paths); here they hold for any caller, with paths relative to the input.
 */
export function checkIdentificationInput(
  input: IdentificationInput,
  limits: PhotoLimits,
): IdentificationUpload {
  const count = input.photos.length;
  if (count === 0) throw invalid([{ path: "photos", message: "send 1 to 5 photos" }]);
  if (count > limits.maxImages) {
    throw invalid([{ path: "photos", message: `at most ${limits.maxImages} images per identification` }]);
  }
  const images = input.photos.map((photo, i): UploadedImage => {
    if (photo.bytes.byteLength > limits.maxFileBytes) {
      throw new AppError("payload_too_large", `Each file may be at most ${limits.maxFileBytes} bytes.`);
    }
    const format = sniffImageFormat(photo.bytes);
    if (!format) {
      throw new AppError(
        "unsupported_media_type",
        `Image ${i + 1} is not a JPEG, PNG or WebP file (judged by its content, not its name or declared type).`,
      );
    }
    return {
      bytes: photo.bytes,
      format,
      sha256: new Bun.CryptoHasher("sha256").update(photo.bytes).digest("hex"),
    };
  });
  const errors: FieldError[] = [];
  const organs = input.organs ?? [];
  if (organs.some((o) => !(ORGANS as readonly string[]).includes(o))) {
    errors.push({ path: "organs", message: `each organ must be one of ${ORGANS.join(", ")}` });
  } else if (organs.length > 0 && organs.length !== count) {
    errors.push({ path: "organs", message: `send one organ per image (${count}), or none` });
  }
  const { latitude, longitude } = input;
  if (latitude !== undefined && !(Math.abs(latitude) <= 90))
    errors.push({ path: "latitude", message: "must be a number from -90 to 90" });
  if (longitude !== undefined && !(Math.abs(longitude) <= 180))
    errors.push({ path: "longitude", message: "must be a number from -180 to 180" });
  if ((latitude === undefined) !== (longitude === undefined) && errors.length === 0) {
    errors.push({
      path: latitude === undefined ? "latitude" : "longitude",
      message: "send latitude and longitude together",
    });
  }
  if (errors.length > 0) throw invalid(errors);
  // Key order matters: uploadFingerprint hashes this object's JSON, and stored Idempotency-Keys compare with it.
  return {
    images,
    organs: organs.length > 0 ? [...organs] : Array.from({ length: count }, () => "auto" as const),
    latitude,
    longitude,
    includeHealth: input.includeHealth ?? true,
  };
}

/** What makes two uploads "the same request" for Idempotency-Key: every field and every file's bytes. */
export function uploadFingerprint(upload: IdentificationUpload): string {
  const { images, ...fields } = upload;
  return new Bun.CryptoHasher("sha256")
    .update(JSON.stringify({ ...fields, images: images.map((i) => i.sha256) }))
    .digest("hex");
}
