import type { BlobStore } from "../../infra/storage/index.ts";
import type { IdentificationResult } from "./identifications.result.ts";
import type { Identification } from "./identifications.schemas.ts";

export type MediaView = {
  position: number;
  storageKey: string;
  thumbnailKey: string;
  width: number;
  height: number;
};

export function identificationPath(id: string): string {
  return `/v1/identifications/${id}`;
}

export function toIdentificationDto(
  row: { id: string; createdAt: Date; result: IdentificationResult },
  media: readonly MediaView[],
  store: BlobStore,
): Identification {
  const r = row.result;
  return {
    id: row.id,
    status: "completed",
    createdAt: row.createdAt.toISOString(),
    images: [...media]
      .sort((a, b) => a.position - b.position)
      .map((m) => ({
        url: store.publicUrl(m.storageKey),
        thumbnailUrl: store.publicUrl(m.thumbnailKey),
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
