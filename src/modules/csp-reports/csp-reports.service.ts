import type { Deps } from "../../deps.ts";
import { parseCspReports } from "./csp-reports.parse.ts";
import {
  foldViolations,
  recordViolations,
  topViolations,
  type ViolationGroupRow,
  violationsPerDay,
} from "./csp-reports.repo.ts";
import {
  CSP_DIRECTIVES,
  type CspDirective,
  type CspViolationsQuery,
  type CspViolationsSummary,
} from "./csp-reports.schemas.ts";

const DAY_MS = 86_400_000;
/** `YYYY-MM-DD` of the UTC day containing `ms`. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (day: string, n: number) => utcDay(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);

function toGroup(r: ViolationGroupRow) {
  return {
    directive: r.directive as CspDirective,
    blockedOrigin: r.blocked_origin,
    documentPath: r.document_path,
    sourceFile: r.source_file,
    line: r.line,
    disposition: r.disposition,
    count: Number(r.count),
    firstSeen: new Date(r.first_seen).toISOString(),
    lastSeen: new Date(r.last_seen).toISOString(),
    sample: r.sample,
  };
}

export function createCspReportsService(deps: Pick<Deps, "db" | "clock" | "metrics" | "logger">) {
  // Every (bounded) series exists from start at 0: increase() then sees the first violation of a directive.
  for (const directive of CSP_DIRECTIVES) {
    deps.metrics.cspViolations.inc({ directive }, 0);
    deps.metrics.cspNewTypes.inc({ directive }, 0);
  }
  for (const format of ["csp-report", "reports+json"]) deps.metrics.cspReports.inc({ format }, 0);
  return {
    /** Parses, normalises and aggregates one report request; counts it in the metrics. */
    async ingest(mediaType: string, bytes: Uint8Array, userAgent: string): Promise<{ violations: number }> {
      const { format, violations } = parseCspReports(mediaType, bytes, userAgent);
      const now = deps.clock.now();
      const fresh = await recordViolations(
        deps.db.primary,
        utcDay(now),
        new Date(now),
        foldViolations(violations),
      );
      deps.metrics.cspReports.inc({ format });
      for (const v of violations) deps.metrics.cspViolations.inc({ directive: v.directive });
      for (const t of fresh) {
        deps.metrics.cspNewTypes.inc({ directive: t.directive });
        deps.logger.warn(t, "CSP violation of a type never seen before");
      }
      return { violations: violations.length };
    },

    /** Top groups and the per-day trend over the last `days` UTC days, read from the replica. */
    async summary(query: CspViolationsQuery, clientKey: string): Promise<CspViolationsSummary> {
      const to = utcDay(deps.clock.now());
      const from = addDays(to, -(query.days - 1));
      const window = { from, to, directive: query.directive };
      const [top, perDay] = await deps.db.read(clientKey, (db) =>
        Promise.all([topViolations(db, { ...window, limit: query.limit }), violationsPerDay(db, window)]),
      );
      const counts = new Map(perDay.map((d) => [d.day, Number(d.count)]));
      const trend = Array.from({ length: query.days }, (_, i) => {
        const day = addDays(from, i);
        return { day, count: counts.get(day) ?? 0 };
      });
      return {
        from,
        to,
        directive: query.directive ?? null,
        total: trend.reduce((sum, d) => sum + d.count, 0),
        top: top.map(toGroup),
        trend,
      };
    },
  };
}

export type CspReportsService = ReturnType<typeof createCspReportsService>;
