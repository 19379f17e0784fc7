import { type Context, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";

/** Spans kept per unsampled trace, and unsampled traces kept at once, before the oldest are dropped. */
const MAX_SPANS_PER_TRACE = 512;
const MAX_OPEN_TRACES = 2_000;

/**
 * The tail decision for errors. Sampled spans go to `sampled` (the batch processor) as usual. Spans of traces
 * that head sampling left out are held in memory per trace until this process's entry span of the trace (the
 * HTTP request or the job run: a span without a parent here) ends; if it ended failed (5xx, job error) the
 * whole local part of the trace is exported, otherwise it is dropped.
 *
 * Limits, by design: the decision is per process. A request that succeeds drops its spans even if the job it
 * enqueued fails later in a worker; that worker then exports its own part (the job's span and below), whose
 * parent is the request's enqueue span. Spans that end after their entry span are dropped with it.
 */
export class ErrorTailProcessor implements SpanProcessor {
  private readonly held = new Map<string, ReadableSpan[]>();
  private readonly exports = new Set<Promise<void>>();

  constructor(
    private readonly sampled: SpanProcessor,
    private readonly exporter: SpanExporter,
    private readonly onExportError: (err: unknown) => void = () => {},
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.sampled.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    const { traceId, traceFlags } = span.spanContext();
    if ((traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED) {
      this.sampled.onEnd(span);
      return;
    }
    let spans = this.held.get(traceId);
    if (!spans) {
      if (this.held.size >= MAX_OPEN_TRACES) {
        const oldest = this.held.keys().next().value;
        if (oldest !== undefined) this.held.delete(oldest);
      }
      spans = [];
      this.held.set(traceId, spans);
    }
    if (spans.length < MAX_SPANS_PER_TRACE) spans.push(span);
    const entry = !span.parentSpanContext || span.parentSpanContext.isRemote === true;
    if (!entry) return;
    this.held.delete(traceId);
    if (span.status.code === SpanStatusCode.ERROR) this.export(spans);
  }

  private export(spans: ReadableSpan[]): void {
    const done = new Promise<void>((resolve) => {
      this.exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) this.onExportError(result.error);
        resolve();
      });
    });
    this.exports.add(done);
    void done.then(() => this.exports.delete(done));
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.sampled.forceFlush(), ...this.exports]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.held.clear();
    await this.sampled.shutdown();
  }
}
