import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { claimUploads, type IdentifyFromUploads, uploadOfClaimed } from "../uploads/index.ts";
import type { IdentificationUpload } from "./identifications.input.ts";
import type { Caller, Created, CreateOptions } from "./identifications.service.ts";

type Steps = {
  caller: Caller;
  input: IdentifyFromUploads;
  options: CreateOptions;
  /** The stored answer under the key, else `work` run holding the key's lock. */
  underKey(caller: Caller, key: string, requestHash: string, work: () => Promise<Created>): Promise<Created>;
  createFrom(
    caller: Caller,
    upload: IdentificationUpload,
    requestHash: string,
    options: CreateOptions,
    lockHeld: boolean,
  ): Promise<Created>;
};

/**
 * An identification from photos uploaded before (POST /v1/uploads), named by upload id. A retry with the same
 * Idempotency-Key is answered before the uploads are looked at (they are gone after the first success; the
 * fingerprint is the ids and fields), and the key's lock is held from before the claim: a retry while the first
 * request still holds its uploads gets 409 `idempotency_key_in_use`, not 422 `upload_unavailable`. Then the
 * uploads are claimed and verified before any provider call (the multipart checks; a refused upload is
 * deleted), identified like any photos, and removed once their photos are stored; on any other failure they
 * stay usable.
 */
export async function createFromUploads(
  deps: Pick<Deps, "config" | "db" | "storage" | "clock" | "metrics" | "logger">,
  { caller, input, options, underKey, createFrom }: Steps,
): Promise<Created> {
  const max = deps.config.uploads.maxImages;
  if (input.uploadIds.length > max) {
    throw new AppError("validation_failed", "One or more fields are invalid.", {
      errors: [{ path: "uploadIds", message: `at most ${max} uploads per identification` }],
    });
  }
  const requestHash = uploadIdsFingerprint(input);
  const claimAndCreate = async (lockHeld: boolean): Promise<Created> => {
    const claimed = await claimUploads(
      deps,
      caller.userId,
      input.uploadIds,
      deps.config.uploads.maxRequestBytes,
    );
    try {
      const created = await createFrom(
        caller,
        uploadOfClaimed(input, claimed),
        requestHash,
        options,
        lockHeld,
      );
      // A replay (a request with the same key finished meanwhile) used other bytes: these stay usable.
      await (created.replayed ? claimed.release() : claimed.finish());
      return created;
    } catch (err) {
      await claimed.release();
      throw err;
    }
  };
  const key = options.idempotencyKey;
  return key ? underKey(caller, key, requestHash, () => claimAndCreate(true)) : claimAndCreate(false);
}

/** What makes two upload-id requests "the same" for Idempotency-Key: every field and the ids in order. */
export function uploadIdsFingerprint(input: IdentifyFromUploads): string {
  return new Bun.CryptoHasher("sha256").update(JSON.stringify({ uploads: input })).digest("hex");
}
