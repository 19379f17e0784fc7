import { createMiddleware } from "hono/factory";
import {
  childTraceparent,
  newTraceparent,
  parseTraceparent,
  runWithTraceparent,
} from "../../infra/trace-context.ts";
import type { AppEnv } from "../context.ts";

export { childTraceparent } from "../../infra/trace-context.ts";

/**
 * Continues the caller's W3C trace (valid `traceparent`) or starts one. `c.var.traceparent` is this request's
 * own position in the trace; code running for the request gets children of it from `outgoingTraceparent()`
 * (provider calls, enqueued jobs) without passing it along.
 */
export const traceContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = parseTraceparent(c.req.header("traceparent"));
  const traceparent = incoming ? childTraceparent(incoming) : newTraceparent();
  c.set("traceparent", traceparent);
  c.set("traceId", traceparent.slice(3, 35));
  c.header("traceparent", traceparent);
  await runWithTraceparent(traceparent, next);
  // Responses built as raw Response objects (the problem+json errors) miss the header set above. Setting it
  // after next() on every response instead would copy each response once more (~8 µs a request).
  if (c.res.headers.get("traceparent") !== traceparent) c.header("traceparent", traceparent);
});
