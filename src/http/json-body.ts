import type { Context } from "hono";
import type { AppEnv } from "./context.ts";

/**
 * The text of a JSON answer kept beside the Response made from it, so the global middleware that work on the
 * final bytes (absolute URLs, then the ETag) use the string instead of reading it back out of the Response:
 * reading, cloning and re-wrapping a body measured several microseconds each on every cached read (issue #17).
 * The Response identity guards it: when anything replaced `c.res` since, the body is read as before.
 */
export function keepJsonBody(
  c: Context<AppEnv>,
  res: Response,
  text: string,
  urlsAbsolute = false,
): Response {
  c.set("jsonBody", { res, text, urlsAbsolute });
  return res;
}

/**
 * The JSON text of `c.res`: the kept string when it is still that response's, else read from the body (from a
 * clone unless the caller is about to replace `c.res` anyway: `consume`).
 */
export function jsonBodyOf(c: Context<AppEnv>, consume = false): string | Promise<string> {
  const kept = c.get("jsonBody");
  if (kept && kept.res === c.res) return kept.text;
  return (consume ? c.res : c.res.clone()).text();
}

/**
 * A handler's answer that is already serialised JSON (the species cache's bytes), kept for the middleware.
 * Where the absolute-URL middleware runs, its rewrite is applied here, before the Response exists: one
 * Response per answer instead of a second one with copied headers (issue #17).
 */
export function jsonText(c: Context<AppEnv>, text: string, status: 200 | 201 = 200): Response {
  const absolute = c.get("absoluteJson");
  const body = absolute ? absolute(text) : text;
  return keepJsonBody(c, c.body(body, status, { "content-type": "application/json" }), body, !!absolute);
}
