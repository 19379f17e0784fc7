import type { Registry } from "prom-client";
import type { Config } from "../../config/index.ts";
import { mediaFlowMetrics } from "../../infra/storage/media-flow-metrics.ts";
import { signMediaPath } from "../../infra/storage/media-signing.ts";
import type { IdentificationResult } from "./identifications.result.ts";
import type { Identification } from "./identifications.schemas.ts";

export type MediaView = {
  /** The media row's id: the API's media route addresses an image by it. */
  id: string;
  position: number;
  storageKey: string;
  thumbnailKey: string;
  width: number;
  height: number;
};

export function identificationPath(id: string): string {
  return `/v1/identifications/${id}`;
}

export type ImageUrls = { url: string; thumbnailUrl: string };
export type MediaUrls = (identificationId: string, media: MediaView) => ImageUrls;

/** The API path of an identification's image (the media route); `thumbnail` for its thumbnail. */
export function mediaPath(identificationId: string, mediaId: string, thumbnail: boolean): string {
  return `/v1/media/identifications/${identificationId}/${mediaId}${thumbnail ? ".thumb" : ""}.jpg`;
}

export type MediaUrlDeps = {
  config: Pick<Config, "publicBaseUrl" | "mediaFlows">;
  clock?: { now(): number };
  metrics?: { registry: Registry };
};

/**
 * Where an identification's images are fetched: private, expiring URLs (issue #13). Always the API's media
 * route, addressed by identification and media id and signed (HMAC, MEDIA_URL_TTL_SECONDS): the route checks the
 * identification is live on every fetch, so a deleted identification's (or account's) photos stop at once, then
 * streams the file (local driver) or redirects to a short presigned GET of the bucket (S3). Never the CDN
 * (MEDIA_PUBLIC_BASE_URL): that stays for public catalogue images.
 */
export function mediaUrls(deps: MediaUrlDeps): MediaUrls {
  const { mediaUrlSecret, mediaUrlTtlSeconds } = deps.config.mediaFlows;
  const origin = deps.config.publicBaseUrl?.replace(/\/+$/, "") ?? "";
  const issued = deps.metrics && mediaFlowMetrics(deps.metrics.registry).signedUrlsIssued;
  const sign = (path: string) => {
    issued?.inc({ kind: "media" });
    return `${origin}${signMediaPath(mediaUrlSecret, path, mediaUrlTtlSeconds, deps.clock?.now() ?? Date.now())}`;
  };
  return (id, m) => ({
    url: sign(mediaPath(id, m.id, false)),
    thumbnailUrl: sign(mediaPath(id, m.id, true)),
  });
}

/** A stored answer (Idempotency-Key replay) gets fresh URLs: the stored ones may have expired. */
export function resignImages(dto: Identification, deps: MediaUrlDeps): Identification {
  const urls = mediaUrls(deps);
  const FILE = /\/v1\/media\/identifications\/([0-9a-f-]{36})\/([0-9a-f-]{36})(?:\.thumb)?\.jpg/;
  return {
    ...dto,
    images: dto.images.map((image) => {
      const mediaId = FILE.exec(image.url)?.[2];
      if (!mediaId) return image;
      const fresh = urls(dto.id, {
        id: mediaId,
        position: 0,
        storageKey: "",
        thumbnailKey: "",
        width: image.width,
        height: image.height,
      });
      return { ...image, ...fresh };
    }),
  };
}

export function toIdentificationDto(
  row: { id: string; createdAt: Date; result: IdentificationResult },
  media: readonly MediaView[],
  urls: MediaUrls,
): Identification {
  const r = row.result;
  return {
    id: row.id,
    status: "completed",
    createdAt: row.createdAt.toISOString(),
    images: [...media]
      .sort((a, b) => a.position - b.position)
      .map((m) => ({
        ...urls(row.id, m),
        width: m.width,
        height: m.height,
      })),
    isPlant: r.isPlant,
    confidence: r.confidence,
    suggestions: r.suggestions,
    ...(r.health ? { health: r.health } : {}),
    providers: r.providers,
    modelVersion: r.modelVersion,
    links: { self: identificationPath(row.id) },
  };
}
