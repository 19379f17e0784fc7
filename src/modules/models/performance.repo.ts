import { type RawBuilder, sql } from "kysely";
import type { Db } from "../../db/connect.ts";

export type PerformanceFilter = { from?: string; to?: string; experimentId?: string };

export type FigureRow = {
  count: number;
  meanConfidence: number | null;
  highConfidenceRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  failureRate: number | null;
  feedbackCount: number;
  feedbackCorrect: number;
};

export type ModelFigureRow = FigureRow & {
  modelId: string | null;
  provider: string;
  version: string | null;
  role: "answer" | "shadow";
};
export type VariantFigureRow = FigureRow & { variant: string };

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function figures(r: Record<string, unknown>): FigureRow {
  return {
    count: Number(r.count ?? 0),
    meanConfidence: num(r.mean_confidence),
    highConfidenceRate: num(r.high_confidence_rate),
    latencyP50Ms: num(r.p50),
    latencyP95Ms: num(r.p95),
    failureRate: num(r.failure_rate),
    feedbackCount: Number(r.feedback_count ?? 0),
    feedbackCorrect: Number(r.feedback_correct ?? 0),
  };
}

function identificationFilter(f: PerformanceFilter): RawBuilder<unknown> {
  const parts = [sql`true`];
  if (f.from) parts.push(sql`i.created_at >= ${new Date(f.from)}`);
  if (f.to) parts.push(sql`i.created_at < ${new Date(f.to)}`);
  if (f.experimentId) parts.push(sql`i.experiment_id = ${f.experimentId}`);
  return sql.join(parts, sql` and `);
}

/**
 * Per model version and role, over its calls (health assessments left out). A call's feedback verdict: right
 * when its top suggestion is the species the user confirmed or named; wrong when the user named another, or
 * said the shown answer was wrong and this call's top suggestion was that answer; otherwise not judged.
 */
export async function modelFigures(db: Db, f: PerformanceFilter): Promise<ModelFigureRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    select c.model_id, c.provider, c.model_version,
      case when c.role = 'shadow' then 'shadow' else 'answer' end as role,
      count(*) filter (where c.outcome <> 'skipped') as count,
      avg(c.confidence) filter (where c.outcome = 'ok') as mean_confidence,
      (count(*) filter (where c.outcome = 'ok' and c.confidence > 0.8))::float8
        / nullif(count(*) filter (where c.outcome = 'ok' and c.confidence is not null), 0) as high_confidence_rate,
      percentile_cont(0.5) within group (order by case when c.outcome <> 'skipped' then c.latency_ms end) as p50,
      percentile_cont(0.95) within group (order by case when c.outcome <> 'skipped' then c.latency_ms end) as p95,
      (count(*) filter (where c.outcome in ('failed', 'circuit_open')))::float8
        / nullif(count(*) filter (where c.outcome <> 'skipped'), 0) as failure_rate,
      count(*) filter (where v.judged is not null) as feedback_count,
      count(*) filter (where v.judged) as feedback_correct
    from identification_model_calls c
    join identifications i on i.id = c.identification_id
    left join identification_feedback fb on fb.identification_id = c.identification_id
    cross join lateral (
      select case
        when fb.identification_id is null or c.outcome <> 'ok' or c.top_name is null then null
        when fb.truth_name is not null then lower(c.top_name) = lower(fb.truth_name)
        when not fb.correct and lower(c.top_name) = lower(fb.shown_name) then false
      end as judged
    ) v
    where c.role <> 'health' and ${identificationFilter(f)}
    group by c.model_id, c.provider, c.model_version, 4
    order by c.provider, c.model_version nulls last, 4`.execute(db);
  return rows.map((r) => ({
    modelId: (r.model_id as string | null) ?? null,
    provider: String(r.provider),
    version: (r.model_version as string | null) ?? null,
    role: r.role as "answer" | "shadow",
    ...figures(r),
  }));
}

/**
 * Per variant of one experiment, over its completed identifications: confidence of the answer shown, latency
 * of the slowest answering call (what the user waited for; cached answers have none), failure rate of the
 * answering calls, and the users' feedback.
 */
export async function variantFigures(
  db: Db,
  f: PerformanceFilter & { experimentId: string },
): Promise<VariantFigureRow[]> {
  const { rows } = await sql<Record<string, unknown>>`
    with ids as (
      select i.id, i.variant, i.confidence from identifications i
      where i.status = 'completed' and ${identificationFilter(f)}
    ), calls as (
      select c.identification_id, max(c.latency_ms) filter (where c.outcome <> 'skipped') as latency_ms,
        count(*) filter (where c.outcome <> 'skipped') as attempted,
        count(*) filter (where c.outcome in ('failed', 'circuit_open')) as failed
      from identification_model_calls c
      where c.role = 'answer' and c.identification_id in (select id from ids)
      group by c.identification_id
    )
    select ids.variant,
      count(*) as count,
      avg(ids.confidence) as mean_confidence,
      (count(*) filter (where ids.confidence > 0.8))::float8 / nullif(count(ids.confidence), 0) as high_confidence_rate,
      percentile_cont(0.5) within group (order by calls.latency_ms) as p50,
      percentile_cont(0.95) within group (order by calls.latency_ms) as p95,
      sum(calls.failed)::float8 / nullif(sum(calls.attempted), 0) as failure_rate,
      count(fb.identification_id) as feedback_count,
      count(*) filter (where fb.correct) as feedback_correct
    from ids
    left join calls on calls.identification_id = ids.id
    left join identification_feedback fb on fb.identification_id = ids.id
    group by ids.variant`.execute(db);
  return rows.map((r) => ({ variant: String(r.variant), ...figures(r) }));
}
