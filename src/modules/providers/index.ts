import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { listProvidersRoute } from "./providers.routes.ts";

export function providersRouter(services: Services) {
  const service = services.providers;
  return createRouter().openapi(listProvidersRoute, async (c) => {
    const data = await service.list(c.var.auth?.scopes ?? []);
    c.header("cache-control", "no-store");
    return c.json({ data }, 200);
  });
}
