import { AppError } from "../../core/app-error.ts";
import { zodIssuesToFieldErrors } from "../../http/router.ts";
import { type IdentifyFromUploads, IdentifyFromUploadsSchema } from "../uploads/index.ts";

/** A JSON body naming five upload ids is far below this; anything larger is not one. */
const MAX_JSON_BYTES = 16 * 1024;

/**
 * The JSON form of POST /v1/identifications (photos uploaded before, by upload id), or undefined for any other
 * body (multipart, read as a stream by the service). Validated with the same problem shape as other JSON bodies.
 */
export async function readUploadIdsBody(request: Request): Promise<IdentifyFromUploads | undefined> {
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") return undefined;
  if (Number(request.headers.get("content-length") ?? 0) > MAX_JSON_BYTES) {
    throw new AppError("payload_too_large", `A JSON body may be at most ${MAX_JSON_BYTES} bytes.`);
  }
  const text = await request.text();
  if (text.length > MAX_JSON_BYTES) {
    throw new AppError("payload_too_large", `A JSON body may be at most ${MAX_JSON_BYTES} bytes.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError("malformed_body", "The body is not valid JSON.");
  }
  const parsed = IdentifyFromUploadsSchema.safeParse(json);
  if (!parsed.success) {
    throw new AppError("validation_failed", "One or more fields are invalid.", {
      errors: zodIssuesToFieldErrors(parsed.error, "json"),
    });
  }
  return parsed.data;
}
