import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { AppEnv } from "../../http/context.ts";
import { bodyGuards } from "../../http/middleware/body-guards.ts";
import { rateLimit } from "../../http/middleware/rate-limit.ts";

/**
 * What every legacy route shares: the deprecation headers (RFC 9745 / RFC 8594), 410 after LEGACY_SUNSET,
 * `legacy_requests_total{route}`, the deps on the context, the body limits and the rate limit of its /v1
 * successor (same policy and budget: the old token path is no way around the login limit).
 */
export type LegacyRoute = {
  method: "GET" | "POST";
  /** Without the trailing slash; the slashed form (as Django served it) is registered too. */
  path: string;
  successor: string;
  /** The /v1 endpoint whose rate-limit policy and budget this path shares. */
  limitAs: string;
  body?: "json" | "multipart";
};

export function legacyChain(deps: Deps, route: LegacyRoute): MiddlewareHandler<AppEnv>[] {
  const { config, metrics, clock } = deps;
  const deprecation = `@${Math.floor(config.http.legacyDeprecatedAt.getTime() / 1000)}`;
  const sunset = config.http.legacySunset.toUTCString();
  const label = `${route.method} ${route.path}`;
  const chain: MiddlewareHandler<AppEnv>[] = [
    createMiddleware<AppEnv>(async (c, next) => {
      metrics.legacyRequests.inc({ route: label });
      c.set("deps", deps);
      try {
        if (clock.now() >= config.http.legacySunset.getTime()) {
          throw new AppError(
            "endpoint_retired",
            `${route.method} ${route.path} was retired on ${sunset}; use ${route.method} ${route.successor}.`,
          );
        }
        await next();
      } finally {
        // Also on errors and on the 410: the client learns what to move to.
        c.res.headers.set("Deprecation", deprecation);
        c.res.headers.set("Sunset", sunset);
        c.res.headers.set("Link", `<${route.successor}>; rel="successor-version"`);
      }
    }),
  ];
  if (route.body) {
    const multipart = route.body === "multipart";
    chain.push(
      bodyGuards({
        defaultMaxBytes: config.http.maxBodyBytes,
        policyFor: () =>
          multipart
            ? { maxBytes: config.uploads.maxRequestBytes, mediaTypes: ["multipart/form-data"] }
            : { maxBytes: config.http.maxBodyBytes, mediaTypes: ["application/json"] },
      }),
    );
  }
  chain.push(rateLimit(deps, () => route.limitAs));
  return chain;
}

/** `/api/auth/token` and `/api/auth/token/`: old clients send both. */
export function withTrailingSlash(path: string): string[] {
  return [path, `${path}/`];
}
