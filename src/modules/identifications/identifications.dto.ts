import type { Config } from "../../config/index.ts";
import type { BlobStore } from "../../infra/storage/index.ts";
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

/**
 * Where an identification's images are fetched. Stored objects are content-addressed and may be shared by other
 * identifications, so the API's media route names an image by its identification and media id (404 once that
 * identification is deleted); a CDN (MEDIA_PUBLIC_BASE_URL) serves the object keys themselves.
 */
export function mediaUrls(deps: { config: Pick<Config, "storage">; storage: BlobStore }): MediaUrls {
  const store = deps.storage;
  if (deps.config.storage.publicBaseUrl) {
    return (_id, m) => ({
      url: store.publicUrl(m.storageKey),
      thumbnailUrl: store.publicUrl(m.thumbnailKey),
    });
  }
  return (id, m) => ({
    url: store.publicUrl(`identifications/${id}/${m.id}.jpg`),
    thumbnailUrl: store.publicUrl(`identifications/${id}/${m.id}.thumb.jpg`),
  });
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
