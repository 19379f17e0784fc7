import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { StoredBlob } from "../../infra/storage/index.ts";
import { findLiveMediaObject } from "./identifications.repo.ts";

const FILE = /^([0-9a-f-]{36})(\.thumb)?\.jpg$/;

/**
 * An image of a live identification, addressed by identification and media id (the object itself is
 * content-addressed and may be shared); deleted identifications' images are gone (404) at once.
 */
export async function readMedia(
  deps: Pick<Deps, "db" | "storage">,
  identificationId: string,
  file: string,
): Promise<StoredBlob> {
  const match = FILE.exec(file);
  // The primary, not a replica: a lagging replica would keep serving an image its owner just deleted, or
  // refuse one just uploaded. (With a CDN in front, the objects themselves are released instead.)
  const key =
    match &&
    (await findLiveMediaObject(deps.db.primary, identificationId, match[1]!, match[2] !== undefined));
  const blob = key ? await deps.storage.get(key) : undefined;
  if (!blob) throw new AppError("not_found", "No such image.");
  return blob;
}
