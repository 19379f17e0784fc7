import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { jsonText } from "../../http/json-body.ts";
import { withPageLinks } from "../../http/pagination.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { SpeciesAdminService } from "./species.admin.service.ts";
import type {
  createSpeciesRoute,
  getSpeciesRoute,
  listSpeciesRoute,
  updateSpeciesRoute,
} from "./species.routes.ts";
import type { SpeciesService } from "./species.service.ts";

export function speciesHandlers(service: SpeciesService, admin: SpeciesAdminService) {
  const list: RouteHandler<typeof listSpeciesRoute, AppEnv> = async (c) => {
    const page = withPageLinks(c, await service.listSpecies(c.req.valid("query"), c.get("clientKey")));
    return c.json(page, 200);
  };

  const get: RouteHandler<typeof getSpeciesRoute, AppEnv> = async (c) => {
    const json = await service.getSpeciesJson(c.req.valid("param").id, c.get("clientKey"));
    // Already the serialised Species: answer with the bytes as they came from the cache.
    return jsonText(c, json) as never;
  };

  const create: RouteHandler<typeof createSpeciesRoute, AppEnv> = async (c) => {
    const species = await admin.createSpecies(c.req.valid("json"), auditActor(c), c.get("clientKey"));
    c.header("Location", species.links.self);
    return c.json(species, 201);
  };

  const update: RouteHandler<typeof updateSpeciesRoute, AppEnv> = async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await admin.updateSpecies(id, c.req.valid("json"), auditActor(c), c.get("clientKey")), 200);
  };

  return { list, get, create, update };
}
