import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { currentScope, parseTraceparent, runInScope, type TraceScope } from "../trace-context.ts";

export { SpanKind };

/** The W3C `traceparent` naming `span` as the parent (for a provider's header, a job envelope, our logs). */
export function spanTraceparent(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-0${traceFlags & TraceFlags.SAMPLED}`;
}

/**
 * A process's first span of a piece of work: under the caller's `traceparent` (HTTP header, job envelope) when
 * it is valid, else the first span of a new trace.
 */
export function startEntrySpan(
  tracer: Tracer,
  name: string,
  kind: SpanKind,
  parentTraceparent: string | null | undefined,
  attributes: Attributes,
): Span {
  const parent = parseTraceparent(parentTraceparent);
  const ctx = parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.parentId,
        traceFlags: Number.parseInt(parent.flags, 16) & TraceFlags.SAMPLED,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  return tracer.startSpan(name, { kind, attributes }, ctx);
}

/** Runs `fn` with `span` as the current span: its children, outgoing calls and enqueued jobs hang below it. */
export function runInSpan<T>(tracer: Tracer, span: Span, fn: () => T): T {
  return runInScope({ traceparent: spanTraceparent(span), span, tracer }, fn);
}

/**
 * A child of the current span, or undefined when tracing is off or no span is current (the caller then
 * records nothing). For spans that do not enclose a function call; end it yourself.
 */
export function startChildSpan(
  name: string,
  attributes?: Attributes,
  kind = SpanKind.INTERNAL,
): Span | undefined {
  const scope = currentScope();
  if (!scope?.tracer || !scope.span) return undefined;
  return scope.tracer.startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, scope.span));
}

/**
 * Runs `fn` inside a child span of the current one (ended when `fn` settles, marked failed when it throws).
 * With tracing off, or outside any span, it is `fn(undefined)` after one AsyncLocalStorage lookup, returned as
 * it is: not an async function, whose own promise wrapping `fn`'s cost ~0.5 µs a call (issue #19's target is
 * under 1 µs for all of a cached read's calls).
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind = SpanKind.INTERNAL,
): Promise<T> {
  const scope = currentScope();
  if (!scope?.tracer || !scope.span) return fn(undefined);
  return inChildSpan(scope as Required<TraceScope>, name, attributes, fn, kind);
}

async function inChildSpan<T>(
  scope: Required<TraceScope>,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind: SpanKind,
): Promise<T> {
  const { tracer } = scope;
  const span = tracer.startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, scope.span));
  try {
    return await runInScope({ traceparent: spanTraceparent(span), span, tracer }, () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** The current span, to add attributes to (undefined when tracing is off). */
export function currentSpan(): Span | undefined {
  return currentScope()?.span;
}

/**
 * Marks the span failed with the error's class and a short message. (Messages of our errors carry no secrets:
 * provider errors are rebuilt without the URL, see provider-fetch.ts; SQL errors carry no parameter values.)
 */
export function failSpan(span: Span, err: unknown): void {
  const name = err instanceof Error ? err.name : "Error";
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  span.recordException({ name, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
}
