import { Counter, type Registry } from "prom-client";
import { perRegistry } from "../per-registry.ts";

/**
 * The first segment of a key, from a fixed list, so the label set stays bounded whatever keys appear:
 * identifications (originals and thumbnails), uploads (direct uploads), species (catalogue images),
 * exports (account exports), blobs (content-addressed), anything else `other`.
 */
export const STORAGE_PREFIXES = [
  "photos",
  "identifications",
  "uploads",
  "species",
  "exports",
  "blobs",
] as const;
export type StoragePrefix = (typeof STORAGE_PREFIXES)[number] | "other";

export function prefixOf(key: string): StoragePrefix {
  if (!key.includes("/")) return "other";
  const first = key.split("/", 1)[0] ?? "";
  return (STORAGE_PREFIXES as readonly string[]).includes(first) ? (first as StoragePrefix) : "other";
}

export type StorageMetrics = ReturnType<typeof createStorageMetrics>;

function createStorageMetrics(registry: Registry) {
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ["prefix"] as const, registers: [registry] });
  const metrics = {
    objectsWritten: counter("storage_objects_written_total", "Objects written to storage, by key prefix."),
    bytesWritten: counter("storage_bytes_written_total", "Bytes written to storage, by key prefix."),
    objectsDeleted: counter(
      "storage_objects_deleted_total",
      "Objects deleted from storage (that existed), by key prefix.",
    ),
    bytesDeleted: counter("storage_bytes_deleted_total", "Bytes deleted from storage, by key prefix."),
  };
  // Present at 0 from the start, so rate() sees every series.
  for (const prefix of [...STORAGE_PREFIXES, "other"]) {
    for (const c of Object.values(metrics)) c.labels(prefix).inc(0);
  }
  return metrics;
}

/** One set per registry: the API and a worker build their stores once, tests may build several. */
export const storageMetrics: (registry: Registry) => StorageMetrics = perRegistry(createStorageMetrics);
