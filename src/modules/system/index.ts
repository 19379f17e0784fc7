import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { healthRoute, readyRoute } from "./system.routes.ts";
import { checkReadiness } from "./system.service.ts";

export function systemRouter(deps: Deps) {
  return createRouter()
    .openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(readyRoute, async (c) => {
      const readiness = await checkReadiness(deps);
      c.header("cache-control", "no-store");
      return c.json(readiness, readiness.status === "not_ready" ? 503 : 200);
    });
}
