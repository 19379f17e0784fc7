import {
  MaxFileSizeExceededError,
  MaxPartsExceededError,
  MaxTotalSizeExceededError,
  MultipartParseError,
  parseMultipartRequest,
} from "@remix-run/multipart-parser";
import type { Config } from "../../config/index.ts";
import { AppError, type FieldError } from "../../core/app-error.ts";
import { sniffImageFormat } from "../../infra/images/magic-bytes.ts";
import type { IdentificationInput, PhotoInput } from "./identifications.input.ts";
import { ORGANS, type Organ } from "./identifications.schemas.ts";

/*
 * The REST side of an identification upload: multipart/form-data -> IdentificationInput (plain photos and
 * fields) for the services, which check the same rules again for every transport (identifications.input.ts).
 */

type UploadLimits = Config["uploads"];

const TEXT_FIELDS = new Set(["organs", "latitude", "longitude", "includeHealth"]);
const MAX_TEXT_BYTES = 64;
// Paths follow the validation hook's `<target>.<field>` convention (`json.email`, `query.limit`): `form.organs`.
const invalid = (errors: FieldError[]) =>
  new AppError("validation_failed", "One or more fields are invalid.", {
    errors: errors.map((e) => ({ ...e, path: e.path ? `form.${e.path}` : "form" })),
  });

/**
 * Reads the multipart body as it streams in, refusing as early as it can: a file or body over its limit (413)
 * as soon as the limit is crossed, a sixth image (400) or a file that is not JPEG/PNG/WebP by its own first
 * bytes (415) as soon as that part ends. Nothing is buffered beyond the limits.
 */
export async function readIdentificationForm(
  request: Request,
  limits: UploadLimits,
): Promise<IdentificationInput> {
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "multipart/form-data") {
    throw new AppError("unsupported_media_type", "Send the photos as multipart/form-data.");
  }
  const images: PhotoInput[] = [];
  const text = new Map<string, string[]>();
  try {
    const parts = parseMultipartRequest(request, {
      maxFileSize: limits.maxFileBytes,
      maxTotalSize: limits.maxRequestBytes,
      maxParts: limits.maxImages + ORGANS.length * 2 + 8,
      maxHeaderSize: 8 * 1024,
    });
    for await (const part of parts) {
      const name = part.name ?? "";
      if (name === "images") {
        if (!part.isFile) throw invalid([{ path: "images", message: "must be a file" }]);
        if (images.length === limits.maxImages) {
          throw invalid([
            { path: "images", message: `at most ${limits.maxImages} images per identification` },
          ]);
        }
        const bytes = part.bytes;
        if (!sniffImageFormat(bytes)) {
          throw new AppError(
            "unsupported_media_type",
            `Image ${images.length + 1} is not a JPEG, PNG or WebP file (judged by its content, not its name or declared type).`,
          );
        }
        images.push({ bytes, contentType: part.mediaType, filename: part.filename });
      } else if (TEXT_FIELDS.has(name) && !part.isFile) {
        if (part.size > MAX_TEXT_BYTES) throw invalid([{ path: name, message: "is too long" }]);
        text.set(name, [...(text.get(name) ?? []), part.text.trim()]);
      } else {
        throw invalid([{ path: name || "(unnamed part)", message: "is not a field of this form" }]);
      }
    }
  } catch (err) {
    await request.body?.cancel().catch(() => {});
    throw toAppError(err, limits);
  }
  if (images.length === 0)
    throw invalid([{ path: "images", message: "send 1 to 5 image files in `images` parts" }]);
  return { photos: images, ...readFields(text, images.length) };
}

function toAppError(err: unknown, limits: UploadLimits): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof MaxFileSizeExceededError) {
    return new AppError("payload_too_large", `Each file may be at most ${limits.maxFileBytes} bytes.`);
  }
  if (err instanceof MaxTotalSizeExceededError) {
    return new AppError(
      "payload_too_large",
      `The request may carry at most ${limits.maxRequestBytes} bytes.`,
    );
  }
  if (err instanceof MaxPartsExceededError) return invalid([{ path: "", message: "too many form parts" }]);
  if (err instanceof MultipartParseError)
    return new AppError("malformed_body", "The multipart body could not be parsed.");
  // The body guard's counting stream fails the read with its own 413.
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause instanceof AppError ? cause : err;
}

function readFields(text: Map<string, string[]>, imageCount: number) {
  const errors: FieldError[] = [];
  const single = (name: string): string | undefined => {
    const values = text.get(name) ?? [];
    if (values.length > 1) errors.push({ path: name, message: "send this field once" });
    return values[0];
  };

  const organValues = text.get("organs") ?? [];
  const organs = organValues.filter((o): o is Organ => (ORGANS as readonly string[]).includes(o));
  if (organs.length !== organValues.length) {
    errors.push({ path: "organs", message: `each organ must be one of ${ORGANS.join(", ")}` });
  } else if (organValues.length > 0 && organValues.length !== imageCount) {
    errors.push({ path: "organs", message: `send one organ per image (${imageCount}), or none` });
  }

  const coordinate = (name: "latitude" | "longitude", max: number) => {
    const raw = single(name);
    if (raw === undefined || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || Math.abs(value) > max) {
      errors.push({ path: name, message: `must be a number from -${max} to ${max}` });
      return undefined;
    }
    return value;
  };
  const latitude = coordinate("latitude", 90);
  const longitude = coordinate("longitude", 180);
  if (
    (latitude === undefined) !== (longitude === undefined) &&
    !errors.some((e) => e.path.endsWith("itude"))
  ) {
    errors.push({
      path: latitude === undefined ? "latitude" : "longitude",
      message: "send latitude and longitude together",
    });
  }

  const health = single("includeHealth")?.toLowerCase();
  if (health !== undefined && !["true", "false", "1", "0"].includes(health)) {
    errors.push({ path: "includeHealth", message: "must be true or false" });
  }

  if (errors.length > 0) throw invalid(errors);
  return {
    organs: organs.length > 0 ? organs : Array.from({ length: imageCount }, () => "auto" as const),
    latitude,
    longitude,
    includeHealth: health === undefined || health === "true" || health === "1",
  };
}
