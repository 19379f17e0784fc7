import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";

export function securityHeaders(hstsMaxAgeSeconds: number) {
  const hsts = `max-age=${hstsMaxAgeSeconds}; includeSubDomains`;
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("Strict-Transport-Security", hsts);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!h.has("Content-Security-Policy"))
      h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  });
}
