import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { deleteUploadRows, lockUploadOfUser } from "./uploads.repo.ts";

/**
 * An upload its owner no longer wants (the app's user cancelled before identifying): object, then row, in one
 * transaction holding the row, so a failed delete keeps the row for the sweep and frees nothing it did not remove.
 * The slot under UPLOADS_MAX_OUTSTANDING is free at once. An identification claiming the upload at the same moment
 * either holds it first (409 here) or finds it gone (its 422 `upload_unavailable`); never half of each.
 */
export async function deleteUpload(
  deps: Pick<Deps, "db" | "storage">,
  userId: string,
  uploadId: string,
): Promise<void> {
  await deps.db.primary.transaction().execute(async (trx) => {
    const row = await lockUploadOfUser(trx, userId, uploadId);
    if (!row) throw new AppError("not_found", "No upload with this id.");
    if (row.claimed_at) {
      throw new AppError(
        "conflict",
        "The upload is being used by an identification; it goes once that is stored.",
      );
    }
    await deps.storage.delete([row.storage_key]);
    await deleteUploadRows(trx, [row.id]);
  });
}
