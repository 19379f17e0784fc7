import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { claimUploads, type IdentifyFromUploads, uploadOfClaimed } from "../uploads/index.ts";
import type { IdentificationUpload } from "./identifications.input.ts";
import type { Caller, Created, CreateOptions } from "./identifications.service.ts";

type Steps = {
  caller: Caller;
  input: IdentifyFromUploads;
  options: CreateOptions;
  replay(caller: Caller, key: string, requestHash: string): Promise<Created | undefined>;
  createFrom(
    caller: Caller,
    upload: IdentificationUpload,
    requestHash: string,
    options: CreateOptions,
  ): Promise<Created>;
};

/**
 * An identification from photos uploaded before (POST /v1/uploads), named by upload id. A retry with the same
 * Idempotency-Key is answered before the uploads are looked at (they are gone after the first success; the
 * fingerprint is the ids and fields). Then the uploads are claimed and verified before any provider call (the
 * multipart checks; a refused upload is deleted), identified like any photos, and removed once their photos are
 * stored; on any other failure they stay usable.
 */
export async function createFromUploads(
  deps: Pick<Deps, "config" | "db" | "storage" | "clock" | "metrics" | "logger">,
  { caller, input, options, replay, createFrom }: Steps,
): Promise<Created> {
  const max = deps.config.uploads.maxImages;
  if (input.uploadIds.length > max) {
    throw new AppError("validation_failed", "One or more fields are invalid.", {
      errors: [{ path: "uploadIds", message: `at most ${max} uploads per identification` }],
    });
  }
  const requestHash = uploadIdsFingerprint(input);
  if (options.idempotencyKey) {
    const earlier = await replay(caller, options.idempotencyKey, requestHash);
    if (earlier) return earlier;
  }
  const claimed = await claimUploads(
    deps,
    caller.userId,
    input.uploadIds,
    deps.config.uploads.maxRequestBytes,
  );
  try {
    const created = await createFrom(caller, uploadOfClaimed(input, claimed), requestHash, options);
    // A replay (a request with the same key finished meanwhile) used other bytes: these stay usable.
    await (created.replayed ? claimed.release() : claimed.finish());
    return created;
  } catch (err) {
    await claimed.release();
    throw err;
  }
}

/** What makes two upload-id requests "the same" for Idempotency-Key: every field and the ids in order. */
export function uploadIdsFingerprint(input: IdentifyFromUploads): string {
  return new Bun.CryptoHasher("sha256").update(JSON.stringify({ uploads: input })).digest("hex");
}
