import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { batchesHandlers } from "./batches.handlers.ts";
import { createBatchRoute, getBatchRoute } from "./batches.routes.ts";

export function identificationBatchesRouter(deps: Deps, services: Services) {
  const h = batchesHandlers(services.identificationBatches, deps.config);
  return createRouter().openapi(createBatchRoute, h.create).openapi(getBatchRoute, h.get);
}

/** Body limits of the batch upload, for the body guards: multipart only, up to BATCH_MAX_REQUEST_BYTES. */
export function batchBodyPolicy(deps: Pick<Deps, "config">) {
  return (path: string) =>
    path === "/v1/identification-batches"
      ? {
          maxBytes: deps.config.batches.maxRequestBytes,
          // JSON: upload ids (POST /v1/uploads), read by a reader that refuses more than a few kilobytes.
          mediaTypes: ["multipart/form-data", "application/json"],
        }
      : undefined;
}
