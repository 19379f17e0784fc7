import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { StoredBlob } from "../../infra/storage/index.ts";
import { mediaFlowMetrics } from "../../infra/storage/media-flow-metrics.ts";
import { verifyMediaPath } from "../../infra/storage/media-signing.ts";
import { mediaPath } from "./identifications.dto.ts";
import { findLiveMediaObject } from "./identifications.repo.ts";

const FILE = /^([0-9a-f-]{36})(\.thumb)?\.jpg$/;
/** The longest a presigned GET handed out by a redirect lives (it is used at once by the client that asked). */
const REDIRECT_MAX_SECONDS = 300;

export type MediaAnswer =
  | { kind: "bytes"; blob: StoredBlob; maxAgeSeconds: number }
  | { kind: "redirect"; location: string; maxAgeSeconds: number };

type MediaRequest = {
  identificationId: string;
  file: string;
  expires?: number | undefined;
  signature?: string | undefined;
};

/**
 * An image of a live identification behind a signed, expiring URL: the signature first (403 tampered, 410
 * expired), then the identification must be live (404 at once after it or its account is deleted), addressed by
 * identification and media id (the object itself is content-addressed and may be shared). The local store
 * answers the bytes; S3 a redirect to a presigned GET no longer-lived than the signed URL.
 */
export async function readMedia(
  deps: Pick<Deps, "db" | "storage" | "config" | "clock" | "metrics">,
  req: MediaRequest,
): Promise<MediaAnswer> {
  const match = FILE.exec(req.file);
  const thumbnail = match?.[2] !== undefined;
  const now = deps.clock.now();
  const check = match
    ? verifyMediaPath(
        deps.config.mediaFlows.mediaUrlSecret,
        mediaPath(req.identificationId, match[1]!, thumbnail),
        req,
        now,
      )
    : "invalid";
  if (check === "invalid") throw new AppError("invalid_link_signature", "This image URL is not valid.");
  if (check === "expired")
    throw new AppError("link_expired", "This image URL has expired; read the identification again.");
  const maxAgeSeconds = Math.max(0, req.expires! - Math.floor(now / 1000));
  // The primary, not a replica: a lagging replica would keep serving an image its owner just deleted, or
  // refuse one just uploaded.
  const key = await findLiveMediaObject(deps.db.primary, req.identificationId, match![1]!, thumbnail);
  if (!key) throw new AppError("not_found", "No such image.");
  if (deps.storage.presignGet) {
    const seconds = Math.max(1, Math.min(maxAgeSeconds, REDIRECT_MAX_SECONDS));
    const location = await deps.storage.presignGet(key, {
      expiresInSeconds: seconds,
      cacheControl: `private, max-age=${seconds}`,
    });
    mediaFlowMetrics(deps.metrics.registry).signedUrlsIssued.labels("media_s3_get").inc();
    return { kind: "redirect", location, maxAgeSeconds: seconds };
  }
  const blob = await deps.storage.get(key);
  if (!blob) throw new AppError("not_found", "No such image.");
  return { kind: "bytes", blob, maxAgeSeconds };
}
