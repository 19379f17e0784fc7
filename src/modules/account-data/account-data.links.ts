import type { Deps } from "../../deps.ts";
import type { Linker } from "../../http/links.ts";
import { ME_PATH } from "../users/users.links.ts";
import type { AccountExport } from "./account-data.schemas.ts";
import { type AccountExportView, exportPath, signedArchivePath } from "./exports.ts";

/** An export with its links; while ready, a download link signed for this user until the archive expires. */
export function presentExport(
  view: AccountExportView,
  userId: string,
  config: Deps["config"],
  l: Linker,
): AccountExport {
  const download =
    view.status === "ready" && view.expiresAt
      ? { download: l.href(signedArchivePath(config, userId, view.id, new Date(view.expiresAt))) }
      : {};
  return { ...view, links: { self: l.href(exportPath(view.id)), account: l.href(ME_PATH), ...download } };
}
