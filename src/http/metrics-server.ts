import { createHash, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import type { Registry } from "prom-client";
import { AppError } from "../core/app-error.ts";
import type { Logger } from "../infra/logger.ts";

export type MetricsServerDeps = {
  registry: Registry;
  /** 0 asks the OS for a free port (read it back from `port`); callers that mean "off" do not start it. */
  port: number;
  hostname?: string;
  /** More GET routes on the same port, e.g. `{ "/healthz": () => Response.json({ status: "ok" }) }`. */
  routes?: Record<string, (req: Request) => Response | Promise<Response>>;
  logger?: Logger;
};

export type MetricsServer = { port: number; url: string; stop(): Promise<void> };

/** A tiny HTTP server for Prometheus: `/metrics` plus the extra routes; used by the API and the workers. */
export function startMetricsServer(deps: MetricsServerDeps): MetricsServer {
  const hostname = deps.hostname ?? "0.0.0.0";
  const routes = deps.routes ?? {};
  const server = Bun.serve({
    port: deps.port,
    hostname,
    async fetch(req) {
      const { pathname } = new URL(req.url);
      const handler =
        pathname === "/metrics" ? () => metricsResponse(deps.registry, deps.logger) : routes[pathname];
      if (!handler)
        return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
      }
      return handler(req);
    },
  });
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  return {
    port: server.port ?? deps.port,
    url: `http://${host}:${server.port}`,
    stop: () => server.stop(true),
  };
}

export async function metricsResponse(registry: Registry, logger?: Logger): Promise<Response> {
  try {
    const body = await registry.metrics();
    return new Response(body, {
      headers: { "content-type": registry.contentType, "cache-control": "no-store" },
    });
  } catch (err) {
    logger?.error({ err: err instanceof Error ? err.message : String(err) }, "metrics collection failed");
    return new Response("metrics collection failed\n", {
      status: 500,
      headers: { "content-type": "text/plain" },
    });
  }
}

/** `/metrics` on the public port, for `Authorization: Bearer <METRICS_TOKEN>` only. */
export function protectedMetricsHandler(registry: Registry, token: string, logger?: Logger) {
  const expected = digest(token);
  return async (c: Context) => {
    const match = /^Bearer +(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    // Compare digests: equal lengths for timingSafeEqual, and no timing hint about the token's length.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new AppError("unauthenticated", "Send the metrics token as `Authorization: Bearer <token>`.", {
        authChallenge: { realm: "metrics" },
      });
    }
    return metricsResponse(registry, logger);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
