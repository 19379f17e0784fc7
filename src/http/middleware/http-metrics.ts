import { createMiddleware } from "hono/factory";
import type { Metrics } from "../../infra/metrics.ts";
import type { AppEnv } from "../context.ts";
import { matchedRoute } from "./logging.ts";

type DurationLabels = { method: string; route: string };
type RequestLabels = DurationLabels & { status: string };

export function httpMetrics(metrics: Metrics) {
  // One label object per (method, route) and per (method, route, status), made once: prom-client's timer
  // merged two fresh objects per request and the counter got a third (issue #17). Bounded by the routes.
  const durationLabels = new Map<string, DurationLabels>();
  const requestLabels = new Map<string, RequestLabels>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    metrics.httpInFlight.inc();
    try {
      await next();
    } finally {
      metrics.httpInFlight.dec();
      const method = c.req.method;
      const route = matchedRoute(c);
      const status = c.res.status;
      const key = `${method} ${route}`;
      let duration = durationLabels.get(key);
      if (!duration) {
        duration = { method, route };
        durationLabels.set(key, duration);
      }
      metrics.httpDuration.observe(duration, (performance.now() - started) / 1000);
      const statusKey = `${key} ${status}`;
      let labels = requestLabels.get(statusKey);
      if (!labels) {
        labels = { method, route, status: String(status) };
        requestLabels.set(statusKey, labels);
      }
      metrics.httpRequests.inc(labels);
    }
  });
}
