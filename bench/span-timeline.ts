/**
 * Where a request's time goes, from its own spans: an OTLP/HTTP (JSON) receiver in the bench process keeps every
 * span it is sent, and `timeline()` lines up the spans of the given traces by offset from each trace's server
 * span, printing each stage's median start and duration (a stage: span name + statement, numbered by its
 * occurrence in the trace). Tracing costs time itself, so timelines are taken in runs of their own, never in the
 * runs whose figures are compared with targets.
 */
import { pct } from "./lib.ts";

type Span = { name: string; traceId: string; startMs: number; endMs: number; statement: string };

type OtlpAttribute = { key: string; value: { stringValue?: string } };
type OtlpSpan = {
  name: string;
  traceId: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
};
type OtlpBody = { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };

const nanosToMs = (n: string) => Number(BigInt(n) / 1000n) / 1000;
const STATEMENT_KEYS = new Set(["db.query.text", "db.statement"]);

export function startSpanReceiver() {
  const spans: Span[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as OtlpBody;
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) {
            const statement = s.attributes?.find((a) => STATEMENT_KEYS.has(a.key))?.value.stringValue ?? "";
            spans.push({
              name: s.name,
              traceId: s.traceId,
              startMs: nanosToMs(s.startTimeUnixNano),
              endMs: nanosToMs(s.endTimeUnixNano),
              statement: statement.replace(/\s+/g, " ").trim().slice(0, 48),
            });
          }
      return Response.json({});
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    /** Waits (up to 10 s) until every trace has its server span, then prints the median timeline. */
    async timeline(traceIds: string[], serverSpan: (name: string) => boolean): Promise<void> {
      const wanted = new Set(traceIds);
      // The server span ends last: once every trace has it, the trace's other spans were exported with or
      // before it.
      const served = () => new Set(spans.filter((s) => serverSpan(s.name)).map((s) => s.traceId));
      const deadline = performance.now() + 10_000;
      for (;;) {
        const done = served();
        if (traceIds.every((id) => done.has(id)) || performance.now() > deadline) break;
        await Bun.sleep(100);
      }
      const byTrace = Map.groupBy(
        spans.filter((s) => wanted.has(s.traceId)),
        (s) => s.traceId,
      );
      printTimeline([...byTrace.values()], serverSpan);
    },
    stop: () => server.stop(true),
  };
}

const percentile = (xs: number[], p: number) =>
  pct(
    xs.toSorted((a, b) => a - b),
    p,
  );
const median = (xs: number[]) => percentile(xs, 50);

function printTimeline(traces: Span[][], serverSpan: (name: string) => boolean): void {
  const stages = new Map<string, { starts: number[]; durations: number[] }>();
  const totals: number[] = [];
  for (const trace of traces) {
    const server = trace.find((s) => serverSpan(s.name));
    if (!server) continue;
    totals.push(server.endMs - server.startMs);
    const seen = new Map<string, number>();
    for (const s of trace.toSorted((a, b) => a.startMs - b.startMs)) {
      if (s === server) continue;
      const base = s.statement ? `${s.name}: ${s.statement}` : s.name;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const key = n > 1 ? `${base} #${n}` : base;
      const stage = stages.get(key) ?? { starts: [], durations: [] };
      stage.starts.push(s.startMs - server.startMs);
      stage.durations.push(s.endMs - s.startMs);
      stages.set(key, stage);
    }
  }
  console.log(
    `\ntimeline of ${totals.length} requests from their spans (median start, median and p99 duration in ms, from the ` +
      `server span; stages seen in at least half of them):`,
  );
  const rows = [...stages]
    .filter(([, s]) => s.starts.length >= totals.length / 2)
    .map(([key, s]) => ({
      key,
      start: median(s.starts),
      duration: median(s.durations),
      p99: percentile(s.durations, 99),
    }))
    .sort((a, b) => a.start - b.start);
  const col = (n: number) => n.toFixed(1).padStart(7);
  for (const r of rows) console.log(`${col(r.start)} ${col(r.duration)} ${col(r.p99)}  ${r.key}`);
  console.log(`${col(median(totals))}                  server span ends (median)`);
  console.log(`${col(percentile(totals, 99))}                  server span ends (p99)`);
}
