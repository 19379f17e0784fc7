import type { Deps } from "../../deps.ts";
import { CSP_REPORT_PATH } from "../../http/csp.ts";
import { bodyGuards } from "../../http/middleware/body-guards.ts";
import { rateLimit } from "../../http/middleware/rate-limit.ts";
import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { cspReportsHandlers } from "./csp-reports.handlers.ts";
import { legacyCspReportRoute, listCspViolationsRoute, postCspReportsRoute } from "./csp-reports.routes.ts";
import {
  CSP_REPORT_MEDIA_TYPE,
  CspReportUriBodySchema,
  REPORTS_MEDIA_TYPE,
  ReportsBatchSchema,
} from "./csp-reports.schemas.ts";

export { CSP_REPORT_PATH };
export const LEGACY_CSP_REPORT_PATH = "/api/security/csp-report/";

function bodyPolicy(deps: Pick<Deps, "config">) {
  return {
    maxBytes: deps.config.csp.reportMaxBytes,
    mediaTypes: [CSP_REPORT_MEDIA_TYPE, REPORTS_MEDIA_TYPE],
  };
}

/** The report endpoint's body limit and media types, for the /v1 body guards. */
export function cspReportBodyPolicy(deps: Pick<Deps, "config">) {
  return (path: string) => (path === CSP_REPORT_PATH ? bodyPolicy(deps) : undefined);
}

export function cspReportsRouter(deps: Deps, services: Services) {
  const h = cspReportsHandlers(services.cspReports, deps.config.csp.reportMaxBytes);
  const router = createRouter();
  router.openAPIRegistry.register("CspReportUriBody", CspReportUriBodySchema);
  router.openAPIRegistry.register("ReportsBatch", ReportsBatchSchema);
  return router.openapi(postCspReportsRoute, h.receive).openapi(listCspViolationsRoute, h.list);
}

/**
 * The old report path, served in place: mounted before the /api redirect, so it brings what /v1 routes get
 * from the global middleware (deps, body guard, per-IP limit). The path without its trailing slash works too.
 */
export function legacyCspReportRouter(deps: Deps, services: Services) {
  const h = cspReportsHandlers(services.cspReports, deps.config.csp.reportMaxBytes);
  const deprecation = `@${Math.floor(deps.config.http.legacyDeprecatedAt.getTime() / 1000)}`;
  const sunset = deps.config.http.legacySunset.toUTCString();
  const paths = [LEGACY_CSP_REPORT_PATH, LEGACY_CSP_REPORT_PATH.slice(0, -1)];
  const router = createRouter();
  const guard = bodyGuards({
    defaultMaxBytes: deps.config.csp.reportMaxBytes,
    policyFor: () => bodyPolicy(deps),
  });
  const limit = rateLimit(deps);
  for (const path of paths) {
    router.use(path, async (c, next) => {
      c.set("deps", deps);
      await next();
      c.header("Deprecation", deprecation);
      c.header("Sunset", sunset);
      c.header("Link", `<${CSP_REPORT_PATH}>; rel="successor-version"`);
    });
    router.use(path, guard);
    router.use(path, limit);
  }
  router.openapi(legacyCspReportRoute, h.receive);
  router.post(LEGACY_CSP_REPORT_PATH, h.receive);
  return router;
}
