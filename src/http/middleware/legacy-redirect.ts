import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";

const LEGACY_PREFIX = /^\/api(?:\/v1)?(?=\/|$)/;

/** Old clients call /api/... or /api/v1/...: send them, permanently and with the method kept, to /v1. */
export function legacyRedirect(opts: { sunset: Date; deprecatedAt: Date }) {
  // RFC 9745: the deprecation date as a structured-field date (@epoch-seconds).
  const deprecation = `@${Math.floor(opts.deprecatedAt.getTime() / 1000)}`;
  const sunset = opts.sunset.toUTCString();
  return createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    if (!LEGACY_PREFIX.test(url.pathname)) return next();
    const successor = `/v1${url.pathname.replace(LEGACY_PREFIX, "")}${url.search}`;
    c.header("Location", successor);
    c.header("Deprecation", deprecation);
    c.header("Sunset", sunset);
    c.header("Link", `<${successor}>; rel="successor-version"`);
    return c.body(null, 308);
  });
}
