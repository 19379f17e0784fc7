import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Deps } from "../deps.ts";
import type { AppEnv } from "../http/context.ts";
import { createRouter } from "../http/router.ts";
import { API_KEY_HEADER } from "../http/security.ts";
import { lazyModule } from "../infra/lazy-module.ts";
import type { Services } from "../services.ts";
import type { Usage } from "./context.ts";
import { GRAPHQL_PATH } from "./path.ts";

// graphql, yoga and the schema load on the first GraphQL request, not at start (issue #11: start-to-ready).
const server = lazyModule(() => require("./server.ts") as typeof import("./server.ts"));
const schema = lazyModule(() => require("./schema/index.ts") as typeof import("./schema/index.ts"));

// GraphiQL's page loads its bundle from a CDN (yoga's default renderer) and runs one inline script.
const GRAPHIQL_POLICY =
  "default-src 'none'; script-src 'unsafe-inline' https://unpkg.com; style-src 'unsafe-inline' https://unpkg.com; " +
  "img-src 'self' data: https://unpkg.com; font-src https://unpkg.com; connect-src 'self'; frame-ancestors 'none'";

/**
 * /v1/graphql inside the Hono app, behind the same middleware as REST (request id, trace context, logs,
 * metrics, authentication, the per-request rate limit); GraphQL's own limits and cost-based rate limit run inside
 * yoga. The SDL is served at /v1/graphql/schema.graphql.
 */
export function graphqlRouter(deps: Deps, services: Services) {
  let built: ReturnType<ReturnType<typeof server>["createGraphqlServer"]> | undefined;
  const yogaOf = () => {
    built ??= server().createGraphqlServer(deps, services);
    return built;
  };
  let sdlText: string | undefined;
  const sdl = () => {
    sdlText ??= schema().printSdl();
    return sdlText;
  };
  const { publicMaxAgeSeconds } = deps.config.graphql;

  const handle = async (c: Context<AppEnv>) => {
    const credentials =
      c.req.header("authorization") !== undefined || c.req.header(API_KEY_HEADER) !== undefined;
    const usage: Usage = { private: credentials, errored: false, cost: 0, operationName: "anonymous" };
    const response = await yogaOf().fetch(c.req.raw, { hono: c, usage });
    const type = response.headers.get("content-type") ?? "";
    if (type.startsWith("text/html")) {
      response.headers.set("Content-Security-Policy", GRAPHIQL_POLICY);
      response.headers.set("Cache-Control", "no-store");
    } else if (
      c.req.method === "GET" &&
      response.status === 200 &&
      !usage.private &&
      !usage.errored &&
      !type.startsWith("text/event-stream")
    ) {
      // A public query without credentials (typically a persisted query by hash): the same for everyone.
      response.headers.set("Cache-Control", `public, max-age=${publicMaxAgeSeconds}`);
      response.headers.set("Vary", "Accept, Authorization, X-API-Key");
    } else if (!type.startsWith("text/event-stream")) {
      response.headers.set("Cache-Control", "no-store");
    }
    // Through Hono's own response: the headers the shared middleware prepared (X-Request-Id) are kept.
    return c.newResponse(
      response.body,
      response.status as ContentfulStatusCode,
      Object.fromEntries(response.headers),
    );
  };

  return createRouter()
    .get(`${GRAPHQL_PATH}/schema.graphql`, (c) =>
      c.body(sdl(), 200, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "public, max-age=300",
      }),
    )
    .on(["GET", "POST"], GRAPHQL_PATH, handle);
}

/** GraphQL requests: JSON, or multipart (file uploads) up to the identification upload limit. */
export function graphqlBodyPolicy(deps: Pick<Deps, "config">) {
  return (path: string) =>
    path === GRAPHQL_PATH
      ? {
          maxBytes: deps.config.uploads.maxRequestBytes,
          mediaTypes: ["application/json", "multipart/form-data"],
        }
      : undefined;
}
