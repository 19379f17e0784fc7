import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { speciesHandlers } from "./species.handlers.ts";
import {
  createSpeciesRoute,
  getSpeciesRoute,
  listSpeciesRoute,
  updateSpeciesRoute,
} from "./species.routes.ts";

export function speciesRouter(services: Services) {
  const h = speciesHandlers(services.species, services.speciesAdmin);
  return createRouter()
    .openapi(listSpeciesRoute, h.list)
    .openapi(getSpeciesRoute, h.get)
    .openapi(createSpeciesRoute, h.create)
    .openapi(updateSpeciesRoute, h.update);
}
