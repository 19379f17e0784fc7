import type { ErrorContext } from "../error-tracking.ts";
import { parseStackFrames, type SentryFrame } from "./stack-frames.ts";

/** The process-wide part of every event: who sends it. */
export type EventSource = { release: string; environment: string; serverName: string };

/**
 * An error event in Sentry's format (https://develop.sentry.dev/sdk/data-model/event-payloads/), with only the
 * fields we fill: no request bodies, headers, cookies or IP addresses, ever.
 */
export type SentryEvent = {
  event_id: string;
  timestamp: number;
  platform: "node";
  level: "error";
  release: string;
  environment: string;
  server_name: string;
  exception: {
    values: {
      type: string;
      value: string;
      stacktrace?: { frames: SentryFrame[] };
      mechanism: { type: "generic"; handled: true; synthetic?: true };
    }[];
  };
  tags?: Record<string, string>;
  user?: { id: string };
  contexts: {
    runtime: { name: string; version: string };
    trace?: { trace_id: string; span_id: string; parent_span_id?: string };
    job?: Record<string, unknown>;
  };
};

// Sentry truncates longer exception values itself; sending less keeps envelopes small.
const MAX_VALUE_CHARS = 8_192;

const randomHex = (bytes: number) =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");

function exceptionOf(err: unknown): SentryEvent["exception"]["values"][number] {
  if (err instanceof Error) {
    const frames = parseStackFrames(err.stack);
    return {
      type: err.name || err.constructor?.name || "Error",
      value: err.message.slice(0, MAX_VALUE_CHARS),
      ...(frames.length > 0 ? { stacktrace: { frames } } : {}),
      mechanism: { type: "generic", handled: true },
    };
  }
  // A thrown non-Error has no stack of its own; say what it was rather than inventing one.
  const value =
    typeof err === "object" && err !== null
      ? `Non-Error exception captured with keys: ${Object.keys(err).slice(0, 20).join(", ")}`
      : String(err);
  return {
    type: "Error",
    value: value.slice(0, MAX_VALUE_CHARS),
    mechanism: { type: "generic", handled: true, synthetic: true },
  };
}

/** The event for one unexpected error and where it happened. */
export function buildEvent(err: unknown, context: ErrorContext, source: EventSource): SentryEvent {
  const tags: Record<string, string> = {};
  if (context.requestId) tags.request_id = context.requestId;
  if (context.route) tags.route = context.route;
  if (context.method) tags.method = context.method;
  if (context.job) {
    tags.job = context.job.name;
    tags.lane = context.job.lane;
  }
  return {
    event_id: randomHex(16),
    timestamp: Date.now() / 1000,
    platform: "node",
    level: "error",
    release: source.release,
    environment: source.environment,
    server_name: source.serverName,
    exception: { values: [exceptionOf(err)] },
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(context.userId ? { user: { id: context.userId } } : {}),
    contexts: {
      runtime: { name: "bun", version: Bun.version },
      // The error is attached to the span it happened in, so Sentry links it into the same trace as our logs,
      // problem bodies and exported spans.
      ...(context.traceId
        ? { trace: { trace_id: context.traceId, span_id: context.spanId ?? randomHex(8) } }
        : {}),
      ...(context.job ? { job: { ...context.job } } : {}),
    },
  };
}
