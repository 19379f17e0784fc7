import { z } from "zod";

/** Content-Security-Policy reporting; merged into the one schema in index.ts. */
export const CspEnvShape = {
  // A stricter policy to try beside the enforced one: browsers report its violations but block nothing.
  // `{nonce}` stands for the page's nonce source; report-uri / report-to are appended.
  CSP_REPORT_ONLY_POLICY: z.string().max(4_000).optional(),
  // Browsers send one report (report-uri) or a small batch (Reporting API): 64 KB is generous for both.
  CSP_REPORT_MAX_BYTES: z.coerce.number().int().min(1_024).max(1_048_576).default(65_536),
  // Daily aggregates older than this are deleted by the daily report job; the list of known types stays.
  CSP_RETENTION_DAYS: z.coerce.number().int().min(1).default(90),
};

type CspEnv = {
  CSP_REPORT_ONLY_POLICY?: string | undefined;
  CSP_REPORT_MAX_BYTES: number;
  CSP_RETENTION_DAYS: number;
};

export type CspConfig = Readonly<{
  csp: Readonly<{ reportOnlyPolicy: string | undefined; reportMaxBytes: number; retentionDays: number }>;
}>;

export function cspConfig(e: CspEnv): CspConfig {
  return {
    csp: {
      reportOnlyPolicy: e.CSP_REPORT_ONLY_POLICY?.trim() || undefined,
      reportMaxBytes: e.CSP_REPORT_MAX_BYTES,
      retentionDays: e.CSP_RETENTION_DAYS,
    },
  };
}
