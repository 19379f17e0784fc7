/**
 * W3C Trace Context (`traceparent`: version-traceid-parentid-flags).
 *
 * The trace id lets one user action be followed through the request log line, the provider calls it made
 * (their `traceparent` header) and the jobs it enqueued (their log lines). When tracing is on
 * (OTEL_EXPORTER_OTLP_ENDPOINT, src/infra/tracing/), the scope below also carries the current span, and the
 * traceparents handed out are those of real, exported spans.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Span, Tracer } from "@opentelemetry/api";

export type TraceContext = Readonly<{ traceId: string; parentId: string; flags: string }>;

const FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_PARENT_ID = "0".repeat(16);
// Level 1 "sampled" and level 2 "random-trace-id"; the other bits are reserved and must be sent as zero.
const KNOWN_FLAGS = 0x03;

/** Parses a `traceparent` header; undefined when it is absent or invalid (the caller then starts a new trace). */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const value = header.trim();
  const m = FIELDS.exec(value);
  if (!m) return undefined;
  const [, version, traceId, parentId, flags] = m as unknown as [string, string, string, string, string];
  if (version === "ff") return undefined;
  // Version 00 has exactly four fields; a later version may append fields after a dash, which we ignore.
  if (version === "00" ? value.length !== 55 : value.length > 55 && value[55] !== "-") return undefined;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID) return undefined;
  return { traceId, parentId, flags };
}

export function formatTraceparent(ctx: TraceContext): string {
  const flags = (Number.parseInt(ctx.flags, 16) & KNOWN_FLAGS).toString(16).padStart(2, "0");
  return `00-${ctx.traceId}-${ctx.parentId}-${flags}`;
}

/**
 * A new trace; flagged sampled because every request's trace id is recorded in our logs. Both ids come from one
 * draw of 24 random bytes, formatted directly (one per request, issue #17); all-zero ids are invalid: drawn again.
 */
export function newTraceparent(): string {
  for (;;) {
    const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex");
    const traceId = hex.slice(0, 32);
    const parentId = hex.slice(32);
    if (traceId !== ZERO_TRACE_ID && parentId !== ZERO_PARENT_ID) return `00-${traceId}-${parentId}-01`;
  }
}

/**
 * The `traceparent` to send with an outgoing call (provider request header) or to store in an enqueued job:
 * same trace id and flags, a fresh parent id. An invalid or missing parent starts a new trace.
 */
export function childTraceparent(parent: string | TraceContext | null | undefined): string {
  const ctx = typeof parent === "string" || parent == null ? parseTraceparent(parent) : parent;
  if (!ctx) return newTraceparent();
  return formatTraceparent({ ...ctx, parentId: randomHex(8, ZERO_PARENT_ID) });
}

/** The trace id to log, e.g. for a job carrying the `traceparent` of the request that enqueued it. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/*
 * The traceparent of the request (or job) being handled, carried across awaits, so the code that calls out
 * (provider-fetch.ts) and the code that enqueues (queues.ts) can propagate it without every function in
 * between passing it along.
 */
export type TraceScope = Readonly<{
  /** Our position in the trace: the current span's own traceparent when there is a span. */
  traceparent: string;
  /** The span being recorded, and the tracer that records its children (tracing on only). */
  span?: Span;
  tracer?: Tracer;
}>;

const current = new AsyncLocalStorage<TraceScope>();

/** Runs `fn` as part of the trace `traceparent` (the HTTP middleware does it per request; workers per job). */
export function runWithTraceparent<T>(traceparent: string, fn: () => T): T {
  return current.run({ traceparent }, fn);
}

/** Runs `fn` inside `scope` (src/infra/tracing/spans.ts opens one per span). */
export function runInScope<T>(scope: TraceScope, fn: () => T): T {
  return current.run(scope, fn);
}

export function currentScope(): TraceScope | undefined {
  return current.getStore();
}

/** The `traceparent` for an outgoing call or an enqueued job from here; undefined outside any trace. */
export function outgoingTraceparent(): string | undefined {
  const scope = current.getStore();
  if (!scope) return undefined;
  // A recorded span is the receiver's parent as it is (the provider call's or the enqueue's own span).
  return scope.span ? scope.traceparent : childTraceparent(scope.traceparent);
}

/** `headers` plus a `traceparent` header when running inside a trace; unchanged otherwise. */
export function withTraceparent(headers: RequestInit["headers"]): RequestInit["headers"] {
  const traceparent = outgoingTraceparent();
  if (!traceparent) return headers;
  const merged = new Headers(headers);
  merged.set("traceparent", traceparent);
  return merged;
}

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
    if (hex !== zero) return hex;
  }
}
