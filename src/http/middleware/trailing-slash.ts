import type { Context } from "hono";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../context.ts";
import { problem } from "../error-handler.ts";

/**
 * One rule for a trailing slash, decided on the routes themselves (not on a path prefix): when the path without
 * its trailing slashes is a route, GET and HEAD are redirected there (308 keeps the method), every other method
 * is a 404 (a client must not learn to write to a second spelling; mobile stacks do not replay a POST on 308).
 * Called from the not-found handler, so it never shadows a route that matches the path as written.
 */
export function trailingSlashAnswer(
  c: Context<AppEnv>,
  allowedMethods: (path: string) => string[],
): Response | undefined {
  const path = c.req.path;
  if (path.length < 2 || !path.endsWith("/")) return undefined;
  const canonical = path.replace(/\/+$/, "");
  if (!canonical || allowedMethods(canonical).length === 0) return undefined;
  if (c.req.method === "GET" || c.req.method === "HEAD") {
    const query = new URL(c.req.url).search;
    return c.redirect(`${canonical}${query}`, 308);
  }
  return problem(
    c,
    new AppError("route_not_found", `No route for ${c.req.method} ${path}; drop the trailing slash.`),
  );
}
