import { AppError } from "../../core/app-error.ts";
import { zodIssuesToFieldErrors } from "../../http/router.ts";
import {
  CSP_DIRECTIVES,
  CSP_REPORT_MEDIA_TYPE,
  type CspDirective,
  CspReportUriBodySchema,
  CspViolationReportBodySchema,
  REPORTS_MEDIA_TYPE,
  ReportsBatchSchema,
} from "./csp-reports.schemas.ts";

export type ReportFormat = "csp-report" | "reports+json";

/** One violation reduced to what we aggregate on: no query strings, fragments or other personal data. */
export type CspViolation = {
  directive: CspDirective;
  blockedOrigin: string;
  documentPath: string;
  sourceFile: string;
  line: number;
  disposition: "enforce" | "report";
  sample: {
    format: ReportFormat;
    column: number;
    statusCode: number;
    scriptSample: string;
    userAgent: string;
  };
};

const KEYWORDS = new Set([
  "inline",
  "eval",
  "wasm-eval",
  "trusted-types-policy",
  "trusted-types-sink",
  "self",
]);

function directiveOf(raw: string): CspDirective {
  const name = raw.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  return (CSP_DIRECTIVES as readonly string[]).includes(name) ? (name as CspDirective) : "other";
}

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** An origin for network URLs, the scheme alone for data:/blob:/..., the keyword for inline/eval. */
function blockedOriginOf(raw: string | null | undefined): string {
  const value = (raw ?? "").trim();
  if (value === "") return "";
  if (KEYWORDS.has(value.toLowerCase())) return value.toLowerCase();
  const u = parseUrl(value);
  if (!u) return /^[a-z][a-z0-9+.-]*$/i.test(value) ? value.toLowerCase().slice(0, 32) : "invalid";
  return u.origin !== "null" ? u.origin : u.protocol.replace(/:$/, "");
}

/** Origin and path only: query strings and fragments can carry tokens and personal data. */
function withoutQuery(raw: string | null | undefined, pathOnly: boolean): string {
  const value = (raw ?? "").trim();
  if (value === "") return "";
  if (KEYWORDS.has(value.toLowerCase())) return value.toLowerCase();
  const u = parseUrl(value);
  if (!u) return "invalid";
  if (u.origin === "null") return u.protocol.replace(/:$/, "");
  return (pathOnly ? u.pathname : `${u.origin}${u.pathname}`).slice(0, 512);
}

function violation(r: {
  format: ReportFormat;
  directive: string;
  blocked: string | null | undefined;
  document: string;
  source: string | null | undefined;
  line: number | null | undefined;
  column: number | null | undefined;
  disposition: "enforce" | "report" | undefined;
  statusCode: number | null | undefined;
  scriptSample: string | null | undefined;
  userAgent: string;
}): CspViolation {
  return {
    directive: directiveOf(r.directive),
    blockedOrigin: blockedOriginOf(r.blocked),
    documentPath: withoutQuery(r.document, true),
    sourceFile: withoutQuery(r.source, false),
    line: r.line ?? 0,
    disposition: r.disposition ?? "enforce",
    sample: {
      format: r.format,
      column: r.column ?? 0,
      statusCode: r.statusCode ?? 0,
      // Browsers send at most the first 40 characters of the blocked code: what was injected, not user data.
      scriptSample: (r.scriptSample ?? "").slice(0, 40),
      userAgent: r.userAgent.slice(0, 200),
    },
  };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new AppError("malformed_body", "The body is not valid UTF-8 JSON.");
  }
}

function invalid(error: import("zod").ZodError): AppError {
  return new AppError("validation_failed", "The report is not valid.", {
    errors: zodIssuesToFieldErrors(error, "body"),
  });
}

/**
 * A report-uri body (one violation) or a Reporting API batch (violations among other report types) into
 * normalised violations. Garbage is a 400, never a 5xx; the media type was checked by the body guard.
 */
export function parseCspReports(
  mediaType: string,
  bytes: Uint8Array,
  userAgent: string,
): { format: ReportFormat; violations: CspViolation[] } {
  const json = parseJson(bytes);
  if (mediaType === CSP_REPORT_MEDIA_TYPE) {
    const parsed = CspReportUriBodySchema.safeParse(json);
    if (!parsed.success) throw invalid(parsed.error);
    const r = parsed.data["csp-report"];
    const v = violation({
      format: "csp-report",
      directive: r["effective-directive"] || r["violated-directive"] || "",
      blocked: r["blocked-uri"],
      document: r["document-uri"],
      source: r["source-file"],
      line: r["line-number"],
      column: r["column-number"],
      disposition: r.disposition,
      statusCode: r["status-code"],
      scriptSample: r["script-sample"],
      userAgent,
    });
    return { format: "csp-report", violations: [v] };
  }
  if (mediaType !== REPORTS_MEDIA_TYPE) throw new AppError("unsupported_media_type");
  const batch = ReportsBatchSchema.safeParse(json);
  if (!batch.success) throw invalid(batch.error);
  const violations: CspViolation[] = [];
  for (const [i, report] of batch.data.entries()) {
    if (report.type !== "csp-violation") continue;
    const body = CspViolationReportBodySchema.safeParse(report.body);
    if (!body.success) {
      throw invalid({
        issues: body.error.issues.map((issue) => ({ ...issue, path: [i, "body", ...issue.path] })),
      } as unknown as import("zod").ZodError);
    }
    const b = body.data;
    violations.push(
      violation({
        format: "reports+json",
        directive: b.effectiveDirective,
        blocked: b.blockedURL,
        document: b.documentURL,
        source: b.sourceFile,
        line: b.lineNumber,
        column: b.columnNumber,
        disposition: b.disposition,
        statusCode: b.statusCode,
        scriptSample: b.sample,
        userAgent: report.user_agent ?? userAgent,
      }),
    );
  }
  return { format: "reports+json", violations };
}
