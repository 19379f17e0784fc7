import type { Logger } from "../logger.ts";
import type { BlobStore } from "./blob-store.ts";

/** What an operator needs from a storage failure: the system or S3 error behind "image store not available". */
export function storageErrorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & {
    code?: unknown;
    errno?: unknown;
    path?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  return {
    name: e.name,
    message: e.message,
    code: e.code, // EACCES, ENOSPC, EROFS, ECONNREFUSED ...
    path: e.path,
    httpStatus: e.$metadata?.httpStatusCode,
  };
}

/**
 * Logs every failed storage operation with its cause before the error travels on: callers turn it into a 503
 * "image store not available" for the client, which must not carry internals, so the log is where EACCES shows.
 */
export function loggedBlobStore(store: BlobStore, logger: Logger): BlobStore {
  const logged =
    <A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>, keyOf: (...args: A) => unknown) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        logger.error(
          { driver: store.driver, op, key: keyOf(...args), err: storageErrorFields(err) },
          "storage operation failed",
        );
        throw err;
      }
    };
  return {
    driver: store.driver,
    put: logged("put", store.put.bind(store), (key) => key),
    get: logged("get", store.get.bind(store), (key) => key),
    delete: logged("delete", store.delete.bind(store), (keys) => keys),
    refresh: logged("refresh", store.refresh.bind(store), (keys) => keys),
    ...(store.size ? { size: logged("size", store.size.bind(store), (key) => key) } : {}),
    publicUrl: (key) => store.publicUrl(key),
    ...(store.presignPut
      ? { presignPut: logged("presignPut", store.presignPut.bind(store), (key) => key) }
      : {}),
    ...(store.presignGet
      ? { presignGet: logged("presignGet", store.presignGet.bind(store), (key) => key) }
      : {}),
  };
}
