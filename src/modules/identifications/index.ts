import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { identificationHandlers } from "./identifications.handlers.ts";
import { readMedia } from "./identifications.media.ts";
import {
  createIdentificationRoute,
  deleteIdentificationRoute,
  getIdentificationRoute,
  getMediaRoute,
  listIdentificationsRoute,
} from "./identifications.routes.ts";

export function identificationsRouter(deps: Deps, services: Services) {
  const h = identificationHandlers(
    services.identifications,
    (req) => readMedia(deps, req),
    deps.config.uploads,
  );
  return createRouter()
    .openapi(createIdentificationRoute, h.create)
    .openapi(listIdentificationsRoute, h.list)
    .openapi(getIdentificationRoute, h.get)
    .openapi(deleteIdentificationRoute, h.remove)
    .openapi(getMediaRoute, h.image);
}

/**
 * Body limits of the upload route, for the body guards: multipart up to the per-request limit, or JSON naming
 * upload ids (its reader refuses more than a few kilobytes).
 */
export function identificationBodyPolicy(deps: Pick<Deps, "config">) {
  return (path: string) =>
    path === "/v1/identifications"
      ? {
          maxBytes: deps.config.uploads.maxRequestBytes,
          mediaTypes: ["multipart/form-data", "application/json"],
        }
      : undefined;
}
