import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import {
  childTraceparent,
  newTraceparent,
  parseTraceparent,
  runWithTraceparent,
} from "../../infra/trace-context.ts";
import { failSpan, runInSpan, SpanKind, spanTraceparent, startEntrySpan } from "../../infra/tracing/spans.ts";
import type { AppEnv } from "../context.ts";
import { matchedRoute } from "./logging.ts";

export { childTraceparent } from "../../infra/trace-context.ts";

/** The request's trace: a recorded server span when tracing is on, else the bare W3C context below. */
export function requestTrace(tracer: Tracer | undefined) {
  return tracer ? tracedRequest(tracer) : traceContext;
}

/**
 * Continues the caller's W3C trace (valid `traceparent`) or starts one. `c.var.traceparent` is this request's
 * own position in the trace; code running for the request gets children of it from `outgoingTraceparent()`
 * (provider calls, enqueued jobs) without passing it along.
 */
export const traceContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = parseTraceparent(c.req.header("traceparent"));
  const traceparent = incoming ? childTraceparent(incoming) : newTraceparent();
  start(c, traceparent);
  await runWithTraceparent(traceparent, next);
  finish(c, traceparent);
});

/**
 * The HTTP server span: the parent of every span recorded for the request (SQL, Redis, cache waits, provider
 * calls, image encoding, enqueues; GraphQL resolvers too, as they run inside it). Its trace id is the one in
 * the request log line and in problem bodies. A 5xx answer marks it failed, which exports the trace even when
 * head sampling left it out (tracing/error-tail.ts).
 */
function tracedRequest(tracer: Tracer) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method;
    const span = startEntrySpan(tracer, method, SpanKind.SERVER, c.req.header("traceparent"), {
      "http.request.method": method,
    });
    const traceparent = spanTraceparent(span);
    start(c, traceparent);
    try {
      await runInSpan(tracer, span, next);
    } finally {
      const route = matchedRoute(c);
      const status = c.res.status;
      span.updateName(`${method} ${route}`);
      span.setAttributes({
        "http.route": route,
        "http.response.status_code": status,
        "plant.request_id": c.get("requestId") ?? "",
      });
      const userId = c.get("auth")?.userId;
      if (userId) span.setAttribute("enduser.id", userId);
      // A 4xx is the caller's mistake, answered on purpose: the span is not failed by it.
      if (status >= 500) {
        if (c.error) failSpan(span, c.error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      }
      span.end();
    }
    finish(c, traceparent);
  });
}

function start(c: Context<AppEnv>, traceparent: string) {
  c.set("traceparent", traceparent);
  c.set("traceId", traceparent.slice(3, 35));
  c.header("traceparent", traceparent);
}

function finish(c: Context<AppEnv>, traceparent: string) {
  // Responses built as raw Response objects (the problem+json errors) miss the header set above. Setting it
  // after next() on every response instead would copy each response once more (~8 µs a request).
  if (c.res.headers.get("traceparent") !== traceparent) c.header("traceparent", traceparent);
}
