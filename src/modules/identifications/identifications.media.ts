import type { Deps } from "../../deps.ts";
import { ApiError } from "../../http/errors.ts";
import type { StoredBlob } from "../../infra/storage/index.ts";
import { isLiveMediaKey } from "./identifications.repo.ts";

/** An image of a live identification; deleted identifications' images are gone (404) at once. */
export async function readMedia(
  deps: Pick<Deps, "db" | "storage">,
  identificationId: string,
  file: string,
): Promise<StoredBlob> {
  const key = `identifications/${identificationId}/${file}`;
  // The primary, not a replica: a lagging replica would keep serving an image its owner just deleted, or
  // refuse one just uploaded. (With a CDN in front, the objects themselves are deleted instead.)
  const live = await isLiveMediaKey(deps.db.primary, key);
  const blob = live ? await deps.storage.get(key) : undefined;
  if (!blob) throw new ApiError("not_found", "No such image.");
  return blob;
}
