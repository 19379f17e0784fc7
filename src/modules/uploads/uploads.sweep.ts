import type { Deps } from "../../deps.ts";
import { deleteUploadRows, listUploadsOfUser, lockUploadsCreatedBefore } from "./uploads.repo.ts";

/**
 * Removes uploads older than `maxAgeSeconds` (UPLOADS_UNCLAIMED_MAX_AGE_HOURS, default 24 h): objects, then rows,
 * in one transaction holding the rows, so a failed delete rolls back and the next run finishes it. A claim in
 * progress holds its row's lock briefly and is skipped. Returns how many it removed (a page: call again while
 * it returns `limit`).
 */
export async function sweepOldUploads(
  deps: Pick<Deps, "db" | "storage">,
  opts: { maxAgeSeconds: number; limit: number },
): Promise<number> {
  return deps.db.primary.transaction().execute(async (trx) => {
    const rows = await lockUploadsCreatedBefore(trx, opts.maxAgeSeconds, opts.limit);
    if (rows.length === 0) return 0;
    await deps.storage.delete(rows.map((r) => r.storage_key));
    await deleteUploadRows(
      trx,
      rows.map((r) => r.id),
    );
    return rows.length;
  });
}

/** Account erasure: every upload of the user, objects then rows, a page at a time. Returns how many went. */
export async function eraseUploadsOf(
  deps: Pick<Deps, "db" | "storage">,
  userId: string,
  limit: number,
): Promise<number> {
  const rows = await listUploadsOfUser(deps.db.primary, userId, limit);
  if (rows.length === 0) return 0;
  await deps.storage.delete(rows.map((r) => r.storage_key));
  await deleteUploadRows(
    deps.db.primary,
    rows.map((r) => r.id),
  );
  return rows.length;
}
