import type { Registry } from "prom-client";
import type { BlobStore } from "./blob-store.ts";
import { mediaFlowMetrics } from "./media-flow-metrics.ts";
import { prefixOf, storageMetrics } from "./storage-metrics.ts";

/**
 * Counts objects and bytes written and deleted per key prefix (storage-metrics.ts). Only operations that
 * succeeded count. A delete asks the store for each object's size first (a stat, or a HEAD on S3): deletes are
 * rare (a deleted identification, the retention purge), and "bytes freed" is what an operator wants to see.
 */
export function instrumentedBlobStore(store: BlobStore, registry: Registry): BlobStore {
  const m = storageMetrics(registry);
  // Registered with the store so every process exports them from the start (counted where URLs are signed).
  mediaFlowMetrics(registry);
  return {
    // Operations this decorator does not count pass through unchanged (get, size, publicUrl, later additions).
    ...store,
    async put(key, bytes, contentType) {
      await store.put(key, bytes, contentType);
      const prefix = prefixOf(key);
      m.objectsWritten.inc({ prefix });
      m.bytesWritten.inc({ prefix }, bytes.byteLength);
    },
    async delete(keys) {
      const sizes = await Promise.all(
        keys.map((key) => (store.size ? store.size(key).catch(() => undefined) : Promise.resolve(0))),
      );
      await store.delete(keys);
      keys.forEach((key, i) => {
        const size = sizes[i];
        if (size === undefined) return; // not there: nothing was deleted
        const prefix = prefixOf(key);
        m.objectsDeleted.inc({ prefix });
        m.bytesDeleted.inc({ prefix }, size);
      });
    },
  };
}
