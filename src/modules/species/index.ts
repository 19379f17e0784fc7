import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { speciesHandlers } from "./species.handlers.ts";
import { getSpeciesRoute, listSpeciesRoute } from "./species.routes.ts";
import { createSpeciesService } from "./species.service.ts";

export function speciesRouter(deps: Deps) {
  const h = speciesHandlers(createSpeciesService(deps));
  return createRouter().openapi(listSpeciesRoute, h.list).openapi(getSpeciesRoute, h.get);
}
