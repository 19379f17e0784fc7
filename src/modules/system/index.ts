import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { healthRoute, readyRoute } from "./system.routes.ts";
import { checkReadiness } from "./system.service.ts";

export function systemRouter(deps: Deps) {
  return createRouter()
    .openapi(healthRoute, (c) => {
      // Draining: the proxy's health check takes this instance out of rotation before its listener closes.
      if (deps.lifecycle.draining)
        throw new AppError("service_unavailable", "This instance is shutting down.", {
          retryAfterSeconds: 1,
        });
      return c.json({ status: "ok" as const }, 200);
    })
    .openapi(readyRoute, async (c) => {
      const readiness = await checkReadiness(deps);
      c.header("cache-control", "no-store");
      return c.json(readiness, readiness.status === "not_ready" ? 503 : 200);
    });
}
