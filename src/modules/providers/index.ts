import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { listProvidersRoute } from "./providers.routes.ts";
import { createProvidersService } from "./providers.service.ts";

export function providersRouter(deps: Deps) {
  const service = createProvidersService(deps);
  return createRouter().openapi(listProvidersRoute, async (c) => {
    const data = await service.list(c.var.auth?.scopes ?? []);
    c.header("cache-control", "no-store");
    return c.json({ data }, 200);
  });
}
