import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { CspViolation } from "./csp-reports.parse.ts";

/** Violations folded by their aggregation key, with how many times each came. */
export type ViolationCount = { v: CspViolation; count: number };

const keyOf = (v: CspViolation) =>
  [v.directive, v.blockedOrigin, v.documentPath, v.sourceFile, v.line, v.disposition].join("\u0000");

/** One entry per aggregation key, in key order (concurrent upserts take row locks in the same order). */
export function foldViolations(violations: CspViolation[]): ViolationCount[] {
  const byKey = new Map<string, ViolationCount>();
  for (const v of violations) {
    const entry = byKey.get(keyOf(v));
    if (entry) entry.count += 1;
    else byKey.set(keyOf(v), { v, count: 1 });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

/**
 * Adds the counts to the day's rows and records unknown (directive, blocked origin) pairs, in one transaction.
 * Returns the pairs that no report had ever named before.
 */
export async function recordViolations(
  db: Db,
  day: string,
  at: Date,
  folded: ViolationCount[],
): Promise<{ directive: string; blockedOrigin: string }[]> {
  if (folded.length === 0) return [];
  const types = [...new Map(folded.map(({ v }) => [`${v.directive} ${v.blockedOrigin}`, v])).values()];
  return db.transaction().execute(async (trx) => {
    const fresh = await trx
      .insertInto("csp_violation_types")
      .values(
        types
          .map((v) => ({ directive: v.directive, blocked_origin: v.blockedOrigin, first_seen: at }))
          .sort((a, b) =>
            `${a.directive} ${a.blocked_origin}`.localeCompare(`${b.directive} ${b.blocked_origin}`),
          ),
      )
      .onConflict((oc) => oc.columns(["directive", "blocked_origin"]).doNothing())
      .returning(["directive", "blocked_origin"])
      .execute();
    await trx
      .insertInto("csp_violations_daily")
      .values(
        folded.map(({ v, count }) => ({
          day,
          directive: v.directive,
          blocked_origin: v.blockedOrigin,
          document_path: v.documentPath,
          source_file: v.sourceFile,
          line: v.line,
          disposition: v.disposition,
          count,
          first_seen: at,
          last_seen: at,
          sample: v.sample,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns([
            "day",
            "directive",
            "blocked_origin",
            "document_path",
            "source_file",
            "line",
            "disposition",
          ])
          .doUpdateSet({
            count: sql`csp_violations_daily.count + excluded.count`,
            last_seen: sql`greatest(csp_violations_daily.last_seen, excluded.last_seen)`,
            updated_at: sql`now()`,
          }),
      )
      .execute();
    return fresh.map((r) => ({ directive: r.directive, blockedOrigin: r.blocked_origin }));
  });
}

export type ViolationGroupRow = {
  directive: string;
  blocked_origin: string;
  document_path: string;
  source_file: string;
  line: number;
  disposition: "enforce" | "report";
  count: string;
  first_seen: Date;
  last_seen: Date;
  sample: Record<string, unknown>;
};

type Window = { from: string; to: string; directive?: string };

function inWindow(db: Db, w: Window) {
  let q = db.selectFrom("csp_violations_daily").where("day", ">=", w.from).where("day", "<=", w.to);
  if (w.directive) q = q.where("directive", "=", w.directive);
  return q;
}

/** The most frequent violations over the window (days summed), with the newest sample of each. */
export async function topViolations(db: Db, w: Window & { limit: number }): Promise<ViolationGroupRow[]> {
  const rows = await inWindow(db, w)
    .select([
      "directive",
      "blocked_origin",
      "document_path",
      "source_file",
      "line",
      "disposition",
      sql<string>`sum(count)`.as("count"),
      sql<Date>`min(first_seen)`.as("first_seen"),
      sql<Date>`max(last_seen)`.as("last_seen"),
      sql<Record<string, unknown>>`(array_agg(sample order by last_seen desc))[1]`.as("sample"),
    ])
    .groupBy(["directive", "blocked_origin", "document_path", "source_file", "line", "disposition"])
    .orderBy(sql`sum(count)`, "desc")
    .orderBy(sql`max(last_seen)`, "desc")
    .orderBy("directive")
    .orderBy("blocked_origin")
    .orderBy("document_path")
    .orderBy("source_file")
    .orderBy("line")
    .limit(w.limit)
    .execute();
  return rows as ViolationGroupRow[];
}

/** Total per day over the window (days without reports are absent). */
export async function violationsPerDay(db: Db, w: Window): Promise<{ day: string; count: string }[]> {
  return inWindow(db, w)
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as("day"), sql<string>`sum(count)`.as("count")])
    .groupBy("day")
    .orderBy("day")
    .execute();
}

/** Totals per directive for one day (the daily report). */
export async function violationsByDirective(
  db: Db,
  day: string,
): Promise<{ directive: string; count: string }[]> {
  return db
    .selectFrom("csp_violations_daily")
    .where("day", "=", day)
    .select(["directive", sql<string>`sum(count)`.as("count")])
    .groupBy("directive")
    .orderBy(sql`sum(count)`, "desc")
    .orderBy("directive")
    .execute();
}

/** Types first reported on that UTC day. */
export async function typesFirstSeenOn(
  db: Db,
  day: string,
): Promise<{ directive: string; blocked_origin: string }[]> {
  return db
    .selectFrom("csp_violation_types")
    .select(["directive", "blocked_origin"])
    .where(sql<boolean>`(first_seen at time zone 'UTC')::date = ${day}::date`)
    .orderBy("directive")
    .orderBy("blocked_origin")
    .limit(50)
    .execute();
}

/** Drops daily rows older than `before` (the list of known types stays, so old types are not "new" again). */
export async function deleteViolationsBefore(db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom("csp_violations_daily").where("day", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
