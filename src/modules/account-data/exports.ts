import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { enqueue } from "../../infra/queues.ts";
import { signPath, verifyPath } from "../../infra/signed-links.ts";
import type { StoredBlob } from "../../infra/storage/index.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { forgetExportObjects } from "./erasure.repo.ts";
import {
  type ExportRow,
  findExpiredExports,
  findExport,
  findPendingExport,
  insertExport,
  markExportFailed,
} from "./exports.repo.ts";

export type AccountExportView = {
  id: string;
  status: ExportRow["status"];
  createdAt: string;
  completedAt: string | null;
  expiresAt: string | null;
  byteSize: number | null;
};

export type ExportCaller = { userId: string; clientKey: string; actor: AuditActor; traceparent?: string };

export const exportPath = (id: string) => `/v1/me/exports/${id}`;
export const exportArchivePath = (id: string) => `${exportPath(id)}/archive`;

export function toExportView(row: ExportRow): AccountExportView {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    expiresAt: row.expires_at?.toISOString() ?? null,
    byteSize: row.byte_size === null ? null : Number(row.byte_size),
  };
}

/** The archive's download path, signed for its owner until the archive expires. */
export function signedArchivePath(
  config: Deps["config"],
  userId: string,
  exportId: string,
  expiresAt: Date,
): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return signPath(config.accountData.exportLinkSecret, exportArchivePath(exportId), userId, expires);
}

type ExportDeps = Pick<Deps, "db" | "queues" | "metrics" | "logger" | "storage" | "config" | "clock">;

export function createExportsService(deps: ExportDeps) {
  return {
    /** Queues the archive on the slow lane; while one is being built, asking again answers that one. */
    async request(caller: ExportCaller): Promise<AccountExportView> {
      const pending = await findPendingExport(deps.db.primary, caller.userId);
      if (pending) return toExportView(pending);
      const id = Bun.randomUUIDv7();
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const inserted = await insertExport(trx, id, caller.userId);
        await recordAudit(trx, caller.actor, {
          action: "account.export",
          entityType: "account_export",
          entityId: id,
        });
        return inserted;
      });
      await deps.db.markWrite(caller.clientKey);
      try {
        await enqueue(
          deps,
          "account.export",
          { exportId: id, userId: caller.userId },
          {
            groupId: `user:${caller.userId}`,
            jobId: `account.export:${id}`,
            traceparent: caller.traceparent,
          },
        );
      } catch (err) {
        await markExportFailed(deps.db.primary, id, "queue_unavailable");
        throw new AppError("service_unavailable", "Exports are not available right now.", {
          retryAfterSeconds: 5,
          cause: err,
        });
      }
      return toExportView(row);
    },

    async get(caller: { userId: string; clientKey: string }, id: string): Promise<AccountExportView> {
      const row = await deps.db.read(caller.clientKey, (db) => findExport(db, caller.userId, id));
      if (!row) throw new AppError("not_found", "No export with this id.");
      return toExportView(row);
    },

    /** The archive behind a signed link: the caller's own export, the signature intact, not expired. */
    async openArchive(
      userId: string,
      id: string,
      link: { expires: number; signature: string },
    ): Promise<{ blob: StoredBlob; createdAt: Date }> {
      const row = await findExport(deps.db.primary, userId, id);
      if (!row) throw new AppError("not_found", "No export with this id.");
      const nowSec = Math.floor(deps.clock.now() / 1000);
      const check = verifyPath(
        deps.config.accountData.exportLinkSecret,
        exportArchivePath(id),
        userId,
        link,
        nowSec,
      );
      if (check === "invalid")
        throw new AppError("invalid_link_signature", "This download link is not valid.");
      if (check === "expired" || row.status !== "ready" || !row.storage_key) {
        throw new AppError("link_expired", "This download link has expired; request a new export.");
      }
      const blob = await deps.storage.get(row.storage_key);
      if (!blob) throw new AppError("link_expired", "This archive is no longer available.");
      return { blob, createdAt: row.created_at };
    },
  };
}

export type ExportsService = ReturnType<typeof createExportsService>;

/** Archives past their lifetime: objects removed, rows marked expired (the scheduled account.erase run). */
export async function removeExpiredExports(
  deps: Pick<Deps, "db" | "storage">,
  signal: AbortSignal,
): Promise<number> {
  let removed = 0;
  for (;;) {
    signal.throwIfAborted();
    const page = await findExpiredExports(deps.db.primary, 200);
    await deps.storage.delete(page.flatMap((e) => (e.storage_key ? [e.storage_key] : [])));
    await forgetExportObjects(
      deps.db.primary,
      page.map((e) => e.id),
    );
    removed += page.length;
    if (page.length < 200) return removed;
  }
}
