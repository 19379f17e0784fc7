import type { Deps } from "../../deps.ts";
import { mediaUrls } from "../identifications/identifications.dto.ts";
import { identificationDtoOf } from "../identifications/identifications.jobs.ts";
import { listMediaOf } from "../identifications/identifications.repo.ts";
import { findLiveUserById } from "../users/users.repo.ts";
import { listIdentificationsForExport } from "./export-archive.repo.ts";

const PAGE = 200;

export const exportArchiveKey = (userId: string, exportId: string) => `exports/${userId}/${exportId}.tar.gz`;

/**
 * The account's data as a gzipped tar: `profile.json`, `identifications.json` (each with the archive paths of
 * its photos) and `photos/<identification>/<n>.jpg`. Built with Bun's own `Bun.Archive` (tar + gzip, no
 * dependency; any unzip tool and every OS opens .tar.gz). Held in memory: fine for a history of photos already
 * re-encoded to at most 2048 px; a streaming tar writer is the next step if accounts grow past a few hundred MB.
 * undefined when the account is gone.
 */
export async function buildExportArchive(
  deps: Pick<Deps, "db" | "storage" | "config">,
  userId: string,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  const db = deps.db.primary;
  const user = await findLiveUserById(db, userId);
  if (!user) return undefined;
  const files: Record<string, string | Uint8Array> = {};
  files["profile.json"] = JSON.stringify(
    {
      id: user.id,
      email: user.email,
      displayName: user.display_name,
      role: user.role,
      emailVerified: user.email_verified_at !== null,
      preferences: user.preferences,
      createdAt: user.created_at.toISOString(),
    },
    null,
    2,
  );
  const identifications: unknown[] = [];
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    signal.throwIfAborted();
    const rows = await listIdentificationsForExport(db, userId, PAGE, after);
    const media = await listMediaOf(
      db,
      rows.map((r) => r.id),
    );
    for (const row of rows) {
      const own = media.filter((m) => m.identification_id === row.id && m.deleted_at === null);
      const dto = identificationDtoOf(row, own, mediaUrls(deps));
      const { images: _urls, links: _links, ...rest } = dto;
      const photos: { file: string; width: number; height: number }[] = [];
      for (const m of own) {
        const blob = await deps.storage.get(m.storage_key);
        if (!blob) continue; // purged already: the JSON still says what was identified
        const file = `photos/${row.id}/${m.position + 1}.jpg`;
        files[file] = new Uint8Array(await new Response(blob.body as BodyInit).arrayBuffer());
        photos.push({ file, width: m.width, height: m.height });
      }
      identifications.push({ ...rest, photos });
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) break;
    after = { createdAt: last.created_at, id: last.id };
  }
  files["identifications.json"] = JSON.stringify(identifications, null, 2);
  return new Bun.Archive(files, { compress: "gzip" }).bytes();
}
