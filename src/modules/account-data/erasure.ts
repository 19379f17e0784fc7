import type { Deps } from "../../deps.ts";
import { recordAudit } from "../audit/audit.record.ts";
import { eraseUploadsOf } from "../uploads/index.ts";
import { eraseStoredPhotos } from "./erase-photos.ts";
import {
  anonymiseAuditOf,
  deleteAccountRows,
  ERASURE_ORDER,
  findStoredExportsOf,
  findUnpurgedPhotosOf,
  forgetExportObjects,
  scrubAccount,
} from "./erasure.repo.ts";

const PAGE = 500;

export type ErasureReport = {
  photos: number;
  uploads: number;
  rows: number;
  auditRows: number;
  erased: boolean;
};

/**
 * Erases one deleted account's data: stored photos, direct uploads and export archives, then its rows (identifications, batches,
 * notifications, API keys, tokens, exports) in bounded steps, its audit rows anonymised, and last the account row
 * scrubbed and stamped `erased_at`. Every step is idempotent and checks `signal` between pages: a job stopped at
 * its time limit, or a crashed worker's redelivery, resumes where the data says it stopped.
 */
export async function eraseAccount(
  deps: Pick<Deps, "db" | "storage" | "logger">,
  userId: string,
  signal: AbortSignal,
): Promise<ErasureReport> {
  const db = deps.db.primary;
  const report: ErasureReport = { photos: 0, uploads: 0, rows: 0, auditRows: 0, erased: false };
  for (;;) {
    signal.throwIfAborted();
    const photos = await findUnpurgedPhotosOf(db, userId, PAGE);
    await eraseStoredPhotos(deps, photos);
    report.photos += photos.length;
    if (photos.length < PAGE) break;
  }
  // Direct uploads (claimed or not): objects, then rows.
  for (;;) {
    signal.throwIfAborted();
    const n = await eraseUploadsOf(deps, userId, PAGE);
    report.uploads += n;
    if (n < PAGE) break;
  }
  for (;;) {
    signal.throwIfAborted();
    const exports = await findStoredExportsOf(db, userId, PAGE);
    await deps.storage.delete(exports.flatMap((e) => (e.storage_key ? [e.storage_key] : [])));
    await forgetExportObjects(
      db,
      exports.map((e) => e.id),
    );
    if (exports.length < PAGE) break;
  }
  // Before the API keys go: audit rows name the account's keys as actors.
  for (;;) {
    signal.throwIfAborted();
    const n = await anonymiseAuditOf(db, userId);
    report.auditRows += n;
    if (n === 0) break;
  }
  for (const step of ERASURE_ORDER) {
    for (;;) {
      signal.throwIfAborted();
      const n = await deleteAccountRows(db, step, userId, PAGE);
      report.rows += n;
      if (n < PAGE) break;
    }
  }
  report.erased = await db.transaction().execute(async (trx) => {
    const scrubbed = await scrubAccount(trx, userId);
    // Counts only: the entry itself names nobody.
    if (scrubbed) {
      await recordAudit(
        trx,
        { kind: "system" },
        {
          action: "user.erase",
          entityType: "user",
          entityId: null,
          after: {
            photos: report.photos,
            uploads: report.uploads,
            rows: report.rows,
            auditRows: report.auditRows,
          },
        },
      );
    }
    return scrubbed;
  });
  return report;
}
