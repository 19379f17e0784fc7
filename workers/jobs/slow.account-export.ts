import { publishLiveEvent } from "../../src/graphql/live-events.ts";
import { enqueue } from "../../src/infra/queues.ts";
import { buildExportArchive, exportArchiveKey } from "../../src/modules/account-data/export-archive.ts";
import {
  findExport,
  markExportFailed,
  markExportReady,
} from "../../src/modules/account-data/exports.repo.ts";
import { signedArchivePath } from "../../src/modules/account-data/exports.ts";
import {
  findNotificationRecipient,
  insertNotification,
} from "../../src/modules/notifications/notifications.repo.ts";
import type { JobDefinition, WorkerDeps } from "../job-types.ts";

/**
 * slow lane: builds the account's archive (profile, identifications as JSON, photos) into storage, then tells
 * the owner in the app and by e-mail, with a link signed for them that works until the archive expires. A
 * redelivery after the archive was stored only repeats the notices, which are written once per export anyway.
 */
export const accountExport: JobDefinition<"account.export"> = {
  async run(deps, payload, ctx) {
    const db = deps.db.primary;
    let row = await findExport(db, payload.userId, payload.exportId);
    if (!row || row.status === "failed" || row.status === "expired") return { built: false };
    const builtNow = row.status === "queued";
    if (builtNow) {
      const archive = await buildExportArchive(deps, payload.userId, ctx.signal);
      if (!archive) {
        await markExportFailed(db, payload.exportId, "account_deleted");
        return { built: false };
      }
      const storageKey = exportArchiveKey(payload.userId, payload.exportId);
      await deps.storage.put(storageKey, archive, "application/gzip");
      // Ready and its notification in one transaction: whoever sees the export ready (on the primary or a
      // replica) also finds the notice in their list.
      row =
        (await db.transaction().execute(async (trx) => {
          const ready = await markExportReady(trx, payload.exportId, {
            storageKey,
            byteSize: archive.byteLength,
            ttlSeconds: deps.config.accountData.exportTtlSeconds,
          });
          if (ready?.expires_at) await insertNotification(trx, exportNotice(deps, payload, ready.expires_at));
          return ready;
        })) ?? row;
    }
    const expiresAt = row.expires_at;
    if (row.status !== "ready" || !expiresAt) return { built: false };
    const notice = exportNotice(deps, payload, expiresAt);
    // A redelivery after the archive was stored: the notice is written again (deduplicated by its key).
    const inserted = builtNow || (await insertNotification(db, notice));
    // GraphQL's notificationAdded, once committed and only for a notice this run wrote.
    if (inserted)
      await publishLiveEvent(deps, { kind: "notification", userId: payload.userId, dedupeKey: notice.key });
    const { key, title } = notice;
    const { downloadUrl, expiresAt: until } = notice.data;
    const recipient = await findNotificationRecipient(db, payload.userId);
    if (recipient) {
      await enqueue(
        deps,
        "email.send",
        {
          key: `${key}:${payload.userId}`,
          to: recipient.email,
          subject: title,
          text:
            `The archive of your Plant Community data (profile, identifications and photos) is ready.\n\n` +
            `Download it, signed in to your account, until ${until}:\n${downloadUrl}\n`,
        },
        { groupId: `user:${payload.userId}` },
      );
    }
    return { built: true, bytes: Number(row.byte_size) };
  },

  async onDeadLetter(deps, payload) {
    await markExportFailed(deps.db.primary, payload.exportId, "export_failed");
  },
};

/** The in-app notice of a ready export, carrying the signed download link; deduplicated by its key. */
function exportNotice(deps: WorkerDeps, payload: { userId: string; exportId: string }, expiresAt: Date) {
  const downloadUrl = `${deps.config.accountData.apiBaseUrl}${signedArchivePath(
    deps.config,
    payload.userId,
    payload.exportId,
    expiresAt,
  )}`;
  const until = expiresAt.toISOString();
  return {
    userId: payload.userId,
    key: `export.ready:${payload.exportId}`,
    kind: "export.ready",
    title: "Your data export is ready",
    body: `Download it until ${until}.`,
    data: { exportId: payload.exportId, downloadUrl, expiresAt: until },
  };
}
