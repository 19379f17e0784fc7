import type { Deps } from "../../deps.ts";
import { enqueue } from "../../infra/queues.ts";
import { insertNotification } from "../notifications/notifications.repo.ts";
import {
  deleteViolationsBefore,
  topViolations,
  typesFirstSeenOn,
  violationsByDirective,
} from "./csp-reports.repo.ts";
import { addDays } from "./csp-reports.service.ts";

export type DailyReport = { day: string; total: number; subject: string; text: string };

/** The day's figures as a plain-text report: totals per directive, types never seen before, the top 10. */
export async function buildDailyReport(deps: Pick<Deps, "db">, day: string): Promise<DailyReport> {
  const [byDirective, fresh, top] = await deps.db.read(undefined, (db) =>
    Promise.all([
      violationsByDirective(db, day),
      typesFirstSeenOn(db, day),
      topViolations(db, { from: day, to: day, limit: 10 }),
    ]),
  );
  const total = byDirective.reduce((sum, d) => sum + Number(d.count), 0);
  const lines = [
    `Content-Security-Policy violations reported on ${day} (UTC): ${total}.`,
    "",
    "By directive:",
    ...byDirective.map((d) => `  ${d.directive}: ${d.count}`),
    "",
    fresh.length > 0 ? "Never seen before:" : "No violation type was new.",
    ...fresh.map((t) => `  ${t.directive} blocked ${t.blocked_origin || "(empty)"}`),
    "",
    "Most frequent:",
    ...top.map(
      (r) =>
        `  ${r.count} × ${r.directive} blocked ${r.blocked_origin || "(empty)"} on ${r.document_path || "?"}` +
        (r.source_file ? ` (${r.source_file}:${r.line})` : ""),
    ),
    "",
    "Details: GET /v1/admin/security/csp-violations",
  ];
  const subject = `CSP report ${day}: ${total} violation${total === 1 ? "" : "s"}${fresh.length ? `, ${fresh.length} new type${fresh.length === 1 ? "" : "s"}` : ""}`;
  return { day, total, subject, text: lines.join("\n") };
}

/**
 * Sends the day's report to every admin: an in-app notification and an e-mail, each once per (admin, day)
 * however often the job runs. A quiet day sends nothing. Then drops aggregates past CSP_RETENTION_DAYS.
 */
export async function sendDailyReport(
  deps: Pick<Deps, "db" | "queues" | "config">,
  day: string,
): Promise<{ day: string; total: number; admins: number; purged: number }> {
  const report = await buildDailyReport(deps, day);
  let admins = 0;
  if (report.total > 0) {
    const recipients = await deps.db.primary
      .selectFrom("users")
      .select(["id", "email"])
      .where("role", "=", "admin")
      .where("deleted_at", "is", null)
      .execute();
    for (const admin of recipients) {
      const key = `csp.daily-report:${day}`;
      await insertNotification(deps.db.primary, {
        userId: admin.id,
        key,
        kind: "security.csp_report",
        title: report.subject,
        body: report.text,
        data: { day, total: report.total },
      });
      await enqueue(
        deps,
        "email.send",
        { key: `${key}:${admin.id}`, to: admin.email, subject: report.subject, text: report.text },
        { groupId: `user:${admin.id}` },
      );
    }
    admins = recipients.length;
  }
  const purged = await deleteViolationsBefore(deps.db.primary, addDays(day, -deps.config.csp.retentionDays));
  return { day, total: report.total, admins, purged };
}
