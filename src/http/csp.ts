import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Config } from "../config/index.ts";
import type { AppEnv } from "./context.ts";

/** Where browsers send violation reports (report-uri and the Reporting API endpoint). */
export const CSP_REPORT_PATH = "/v1/security/csp-reports";
/** The Reporting-Endpoints name that `report-to` refers to. */
export const CSP_REPORT_GROUP = "csp-endpoint";

/** Directive -> sources. `{nonce}` stands for this response's nonce source (`'nonce-…'`). */
export type PagePolicy = Readonly<Record<string, readonly string[]>>;

/**
 * What every HTML page starts from: scripts only with this response's nonce ('strict-dynamic' lets a trusted
 * script load its own chunks), nothing else from anywhere but our origin, no plugins, no framing, no <base>.
 * 'report-sample' puts the first 40 characters of a blocked script in the report: what was injected.
 */
const BASE_POLICY: PagePolicy = {
  "default-src": ["'none'"],
  "script-src": ["{nonce}", "'strict-dynamic'", "'report-sample'"],
  "style-src": ["'self'", "{nonce}"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

function render(policy: PagePolicy, nonce: string): string {
  return Object.entries(policy)
    .map(([directive, sources]) =>
      [directive, ...sources.map((s) => (s === "{nonce}" ? `'nonce-${nonce}'` : s))].join(" "),
    )
    .join("; ");
}

/**
 * Chromium accepts only https reporting endpoints, and a policy with `report-to` makes it ignore `report-uri`:
 * on a plain-http origin (local development) `report-to` would silence every report, so it is left out there.
 * Behind a TLS-terminating proxy the request URL is http; PUBLIC_BASE_URL (required in production) decides.
 */
function reportsViaReportingApi(config: Config, c: Context<AppEnv>): boolean {
  const base = config.publicBaseUrl ?? c.req.url;
  return base.startsWith("https:");
}

function reportingDirectives(reportingApi: boolean): string {
  return `report-uri ${CSP_REPORT_PATH}${reportingApi ? `; report-to ${CSP_REPORT_GROUP}` : ""}`;
}

/**
 * The one call an HTML route needs: a fresh nonce for the handler (`cspNonce(c)`), then, on the answer, the
 * enforced policy (the base merged with the page's own directives), the optional report-only trial policy
 * (CSP_REPORT_ONLY_POLICY), reporting to CSP_REPORT_PATH, and no-store (a cached page would reuse its nonce).
 */
export function htmlPage(config: Config, page: PagePolicy = {}): MiddlewareHandler<AppEnv> {
  const enforced: PagePolicy = { ...BASE_POLICY, ...page };
  const trial = config.csp.reportOnlyPolicy;
  return createMiddleware<AppEnv>(async (c, next) => {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    c.set("cspNonce", nonce);
    await next();
    const reportingApi = reportsViaReportingApi(config, c);
    const reporting = reportingDirectives(reportingApi);
    const h = c.res.headers;
    h.set("Content-Security-Policy", `${render(enforced, nonce)}; ${reporting}`);
    if (trial) {
      const policy = trial.replace(/;\s*$/, "").replaceAll("{nonce}", `'nonce-${nonce}'`);
      h.set("Content-Security-Policy-Report-Only", `${policy}; ${reporting}`);
    }
    if (reportingApi) h.set("Reporting-Endpoints", `${CSP_REPORT_GROUP}="${CSP_REPORT_PATH}"`);
    h.set("Cache-Control", "no-store");
  });
}

/** The nonce `htmlPage` made for this response: put it on every <script> and <style> the page writes. */
export function cspNonce(c: Context<AppEnv>): string {
  const nonce = c.get("cspNonce");
  if (!nonce) throw new Error("cspNonce() outside an htmlPage() route");
  return nonce;
}
