import { createMiddleware } from "hono/factory";
import type { Metrics } from "../../infra/metrics.ts";
import type { AppEnv } from "../context.ts";
import { matchedRoute } from "./logging.ts";

export function httpMetrics(metrics: Metrics) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const end = metrics.httpDuration.startTimer();
    metrics.httpInFlight.inc();
    try {
      await next();
    } finally {
      metrics.httpInFlight.dec();
      const route = matchedRoute(c);
      end({ method: c.req.method, route });
      metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    }
  });
}
