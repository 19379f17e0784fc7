import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import {
  CSP_REPORT_MEDIA_TYPE,
  CspViolationsQuerySchema,
  CspViolationsSummarySchema,
  REPORTS_MEDIA_TYPE,
} from "./csp-reports.schemas.ts";

// Documented by reference: the library validates only JSON and form bodies, and application/csp-report is
// neither, so both formats are parsed (with the same zod schemas) by parseCspReports under the byte limit.
const reportBody = {
  required: true,
  content: {
    [CSP_REPORT_MEDIA_TYPE]: { schema: { $ref: "#/components/schemas/CspReportUriBody" } },
    [REPORTS_MEDIA_TYPE]: { schema: { $ref: "#/components/schemas/ReportsBatch" } },
  },
};

const reportResponses = {
  204: { description: "Accepted (reports of other types in a batch are ignored)." },
  ...errorResponses(400, 413, 415),
};

const reportDescription =
  "Where browsers send Content-Security-Policy violations: `report-uri` posts one `application/csp-report`, " +
  "the Reporting API (`report-to`) a batch of `application/reports+json`. Reports are normalised (no query " +
  "strings or fragments) and counted per day. Limited per client IP; the body may be at most " +
  "CSP_REPORT_MAX_BYTES (64 KB).";

export const postCspReportsRoute = createRoute({
  method: "post",
  path: "/security/csp-reports",
  operationId: "postCspReports",
  tags: ["Security"],
  summary: "Receive CSP violation reports from browsers",
  description: reportDescription,
  security: [],
  request: { body: reportBody },
  responses: reportResponses,
});

/** The path pages served before /v1 still name in their policies; answered in place, never redirected. */
export const legacyCspReportRoute = createRoute({
  method: "post",
  path: "/api/security/csp-report",
  operationId: "postLegacyCspReport",
  tags: ["Security"],
  summary: "Receive CSP violation reports (old path)",
  description: `${reportDescription} Deprecated: use POST /v1/security/csp-reports. Pages still name it with a trailing slash (\`/api/security/csp-report/\`), which is served too.`,
  deprecated: true,
  security: [],
  request: { body: reportBody },
  responses: reportResponses,
});

export const listCspViolationsRoute = createRoute({
  method: "get",
  path: "/admin/security/csp-violations",
  operationId: "listCspViolations",
  tags: ["Admin"],
  summary: "CSP violations: top groups and daily trend (admin)",
  description:
    "The most frequent normalised violations over the last `days` UTC days (directive, blocked origin, document " +
    "path, source file, line, disposition) with a sample each, and the total per day. Filter by directive.",
  ...protect("admin"),
  request: { query: CspViolationsQuerySchema },
  responses: {
    200: {
      description: "The summary.",
      content: { "application/json": { schema: CspViolationsSummarySchema } },
    },
    ...errorResponses(400, 401, 403),
  },
});
