import { mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { assertSafeKey, type BlobStore, contentTypeOf } from "./blob-store.ts";

/** Files under one directory, served by the API itself under `mediaBaseUrl`. */
export function createLocalBlobStore(opts: { rootDir: string; mediaBaseUrl: string }): BlobStore {
  const root = resolve(opts.rootDir);
  const pathOf = (key: string) => {
    assertSafeKey(key);
    return join(root, key);
  };

  return {
    driver: "local",

    async put(key, bytes) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Written beside and renamed, so a reader never sees half a file.
      const partial = `${path}.${crypto.randomUUID()}.partial`;
      try {
        await Bun.write(partial, bytes);
        await rename(partial, path);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
    },

    async get(key) {
      const path = pathOf(key);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      return { body: Bun.file(path).stream(), contentType: contentTypeOf(key), size: info.size };
    },

    async size(key) {
      const info = await stat(pathOf(key)).catch(() => undefined);
      return info?.isFile() ? info.size : undefined;
    },

    async delete(keys) {
      await Promise.all(keys.map((key) => rm(pathOf(key), { force: true })));
    },

    async refresh(keys) {
      const now = new Date();
      await Promise.all(keys.map((key) => utimes(pathOf(key), now, now)));
    },

    publicUrl(key) {
      assertSafeKey(key);
      return `${opts.mediaBaseUrl}/${key}`;
    },
  };
}
