import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import type { getSpeciesRoute, listSpeciesRoute } from "./species.routes.ts";
import type { SpeciesService } from "./species.service.ts";

export function speciesHandlers(service: SpeciesService) {
  const list: RouteHandler<typeof listSpeciesRoute, AppEnv> = async (c) => {
    const page = await service.listSpecies(c.req.valid("query"), c.var.clientKey, new URL(c.req.url));
    return c.json(page, 200);
  };

  const get: RouteHandler<typeof getSpeciesRoute, AppEnv> = async (c) => {
    const json = await service.getSpeciesJson(c.req.valid("param").id, c.var.clientKey);
    // Already the serialised Species: answer with the bytes as they came from the cache.
    return c.body(json, 200, { "content-type": "application/json" }) as never;
  };

  return { list, get };
}
