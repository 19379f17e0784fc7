import { z } from "@hono/zod-openapi";

/** Directives we count by name; anything else is `other`, so the metric's label values stay bounded. */
export const CSP_DIRECTIVES = [
  "default-src",
  "script-src",
  "script-src-elem",
  "script-src-attr",
  "style-src",
  "style-src-elem",
  "style-src-attr",
  "img-src",
  "font-src",
  "connect-src",
  "media-src",
  "object-src",
  "frame-src",
  "child-src",
  "worker-src",
  "manifest-src",
  "frame-ancestors",
  "base-uri",
  "form-action",
  "require-trusted-types-for",
  "trusted-types",
  "fenced-frame-src",
  "other",
] as const;
export type CspDirective = (typeof CSP_DIRECTIVES)[number];

export const CSP_REPORT_MEDIA_TYPE = "application/csp-report";
export const REPORTS_MEDIA_TYPE = "application/reports+json";

const url = z.string().max(4_096);
const text = (max: number) => z.string().max(max);
const count = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** `report-uri`: one report per request, `application/csp-report` (CSP level 2, kebab-case keys). */
export const CspReportUriBodySchema = z
  .object({
    "csp-report": z
      .object({
        "document-uri": url,
        referrer: url.optional(),
        "violated-directive": text(1_024).optional(),
        "effective-directive": text(128).optional(),
        "original-policy": text(8_192).optional(),
        disposition: z.enum(["enforce", "report"]).optional(),
        "blocked-uri": url.optional(),
        "source-file": url.optional(),
        "line-number": count.optional(),
        "column-number": count.optional(),
        "status-code": count.optional(),
        "script-sample": text(1_024).optional(),
      })
      .refine((r) => r["effective-directive"] || r["violated-directive"], {
        message: "effective-directive or violated-directive is required",
      }),
  })
  .openapi("CspReportUriBody", { description: "One violation, as `report-uri` sends it." });

/** The `body` of a Reporting API report of type `csp-violation` (camelCase keys). */
export const CspViolationReportBodySchema = z.object({
  documentURL: url,
  referrer: url.nullish(),
  blockedURL: url.nullish(),
  effectiveDirective: text(128),
  originalPolicy: text(8_192).nullish(),
  sourceFile: url.nullish(),
  sample: text(1_024).nullish(),
  disposition: z.enum(["enforce", "report"]),
  statusCode: count.nullish(),
  lineNumber: count.nullish(),
  columnNumber: count.nullish(),
});

/** `report-to`: a batch from the Reporting API; reports of other types are accepted and ignored. */
export const ReportsBatchSchema = z
  .array(
    z.object({
      type: text(64),
      age: z.number().nonnegative().optional(),
      url: url,
      user_agent: text(1_024).optional(),
      body: z.unknown().openapi({ description: "For `csp-violation`: the violation (documentURL, ...)." }),
    }),
  )
  .min(1)
  .max(100)
  .openapi("ReportsBatch", { description: "Reports as the Reporting API sends them (type csp-violation)." });

export const CspViolationGroupSchema = z
  .object({
    directive: z.enum(CSP_DIRECTIVES).openapi({ example: "script-src-elem" }),
    blockedOrigin: z.string().openapi({
      description: "Origin of the blocked resource, or a keyword: inline, eval, data, blob, ...",
      example: "inline",
    }),
    documentPath: z.string().openapi({ example: "/v1/docs" }),
    sourceFile: z.string().openapi({ description: "Without query or fragment.", example: "" }),
    line: z.number().int(),
    disposition: z.enum(["enforce", "report"]),
    count: z.number().int(),
    firstSeen: z.string().datetime({ offset: true }),
    lastSeen: z.string().datetime({ offset: true }),
    sample: z.record(z.string(), z.unknown()).openapi({ description: "One report, normalised." }),
  })
  .openapi("CspViolationGroup");

export const CspViolationsSummarySchema = z
  .object({
    from: z.string().date(),
    to: z.string().date(),
    directive: z.enum(CSP_DIRECTIVES).nullable(),
    total: z.number().int(),
    top: z.array(CspViolationGroupSchema),
    trend: z.array(z.object({ day: z.string().date(), count: z.number().int() })),
  })
  .openapi("CspViolationsSummary");

export const CspViolationsQuerySchema = z.object({
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(90)
    .default(7)
    .openapi({
      param: { name: "days", in: "query" },
      description: "Window: the last N UTC days, today included.",
    }),
  directive: z
    .enum(CSP_DIRECTIVES)
    .optional()
    .openapi({ param: { name: "directive", in: "query" }, example: "img-src" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: "limit", in: "query" }, description: "How many groups in `top`." }),
});

export type CspViolationsQuery = z.infer<typeof CspViolationsQuerySchema>;
export type CspViolationsSummary = z.infer<typeof CspViolationsSummarySchema>;
