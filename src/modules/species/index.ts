import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { createSpeciesAdminService } from "./species.admin.service.ts";
import { speciesHandlers } from "./species.handlers.ts";
import {
  createSpeciesRoute,
  getSpeciesRoute,
  listSpeciesRoute,
  updateSpeciesRoute,
} from "./species.routes.ts";
import { createSpeciesService } from "./species.service.ts";

export function speciesRouter(deps: Deps) {
  const service = createSpeciesService(deps);
  const h = speciesHandlers(service, createSpeciesAdminService(deps, service));
  return createRouter()
    .openapi(listSpeciesRoute, h.list)
    .openapi(getSpeciesRoute, h.get)
    .openapi(createSpeciesRoute, h.create)
    .openapi(updateSpeciesRoute, h.update);
}
