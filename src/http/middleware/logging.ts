import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import pino from "pino";
import { isoTime, type Logger } from "../../infra/logger.ts";
import type { AppEnv, RouterRoute } from "../context.ts";

type RequestContext = Context<AppEnv>;

/*
 * Hono's matchedRoutes() maps the router's match result into a new array at every call; the log line, the
 * metrics, the trace span and the rate limit each asked for it (~3 % of a cached read, issue #17). The match
 * is fixed once the request is routed, so the list is made once per request and kept on the context (a
 * WeakMap keyed by the context measured slower: its entries are more work for the garbage collector).
 */
export function requestRoutes(c: RequestContext): RouterRoute[] {
  let routes = c.get("matchedRoutes");
  if (!routes) {
    routes = matchedRoutes(c);
    c.set("matchedRoutes", routes);
  }
  return routes;
}

/** Pattern of the route that answered, never the raw path (which would leak ids into logs and metrics). */
export function matchedRoute(c: RequestContext): string {
  const path = requestRoutes(c).at(-1)?.path ?? "";
  return !path || path === "*" || path.endsWith("/*") ? "unmatched" : path;
}

/**
 * The line pino writes for `info(line, "request")` with our options (createLogger: level label, ISO time, no
 * base fields, "message" key), written to the logger's own stream: pino's call path (level method, hooks,
 * per-field serialisation) was ~9 % of a cached read and most of it does nothing for this fixed line
 * (issue #17). `tests/http/request-logs.test.ts` checks it against pino's own output.
 */
export function requestLine(line: Record<string, unknown>): string {
  return `{"level":"info"${isoTime()},${JSON.stringify(line).slice(1, -1)},"message":"request"}\n`;
}

export function requestLogging(logger: Logger) {
  // The request line holds only ids, the route pattern and numbers, never a secret: it skips the redaction
  // pass, which measured ~7% of a cached catalogue read.
  const requestLog = logger.child({}, { redact: { paths: [], censor: "[redacted]" } });
  const stream = (requestLog as unknown as Record<symbol, { write(line: string): unknown }>)[
    pino.symbols.streamSym
  ]!;
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    const status = c.res.status;
    const line = {
      requestId: c.get("requestId"),
      method: c.req.method,
      route: matchedRoute(c),
      status,
      durationMs,
      // The id only: the e-mail address is personal data and stays out of logs.
      userId: c.get("auth")?.userId,
      traceId: c.get("traceId"),
    };
    // Failures go through pino (its hook writes warnings and errors out at once).
    if (status >= 500) requestLog.error(line, "request failed");
    else if (requestLog.isLevelEnabled("info")) stream.write(requestLine(line));
  });
}
