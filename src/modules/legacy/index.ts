import { Hono, type MiddlewareHandler } from "hono";
import type { Deps } from "../../deps.ts";
import type { AppEnv } from "../../http/context.ts";
import { requestOrigin } from "../../http/middleware/absolute-urls.ts";
import { requireScopes } from "../../http/security.ts";
import type { Services } from "../../services.ts";
import { providerBudget } from "../identifications/provider-budget.ts";
import { type LegacyRoute, legacyChain, withTrailingSlash } from "./legacy.http.ts";
import { legacyAuthHandlers } from "./legacy-auth.ts";
import { legacyIdentifyHandler } from "./legacy-identify.ts";
import { legacySpeciesHandlers } from "./legacy-species.ts";

type Handler = MiddlewareHandler<AppEnv>;

/**
 * The paths shipped app builds call, served in place with their old request and response shapes until
 * LEGACY_SUNSET (roadmap [2]): no redirect, since mobile HTTP stacks do not replay a POST on 307/308.
 * Mounted before the /api redirect, which keeps sending every other unversioned path to /v1 with a 308.
 */
export function legacyRouter(deps: Deps, services: Services) {
  const { config } = deps;
  const origin = {
    publicBaseUrl: config.publicBaseUrl,
    trustProxy: Boolean(config.http.trustProxyHeader) || config.http.trustProxyCount > 0,
  };
  const identify = legacyIdentifyHandler(services.identifications, services.species);
  const species = legacySpeciesHandlers(services.legacySpecies, (c) => requestOrigin(c, origin));
  const auth = legacyAuthHandlers(services.auth, services.users);

  const router = new Hono<AppEnv>();
  const serve = (route: LegacyRoute, ...handlers: Handler[]) => {
    const chain = [...legacyChain(deps, route), ...handlers];
    for (const path of withTrailingSlash(route.path)) router.on(route.method, path, ...(chain as [Handler]));
  };

  for (const prefix of ["/api/v1", "/api"]) {
    serve(
      {
        method: "POST",
        path: `${prefix}/plant-identification/identify`,
        successor: "/v1/identifications",
        limitAs: "POST /v1/identifications",
        body: "multipart",
      },
      // Same per-user provider budget as POST /v1/identifications.
      providerBudget() as Handler,
      identify as Handler,
    );
  }
  serve(
    {
      method: "GET",
      path: "/api/v1/plant-identification/species",
      successor: "/v1/species",
      limitAs: "GET /v1/species",
    },
    species.list as Handler,
  );
  serve(
    {
      method: "GET",
      path: "/api/v1/plant-identification/species/:id",
      successor: "/v1/species/{id}",
      limitAs: "GET /v1/species/:id",
    },
    species.get as Handler,
  );
  serve(
    {
      method: "POST",
      path: "/api/auth/token",
      successor: "/v1/auth/login",
      limitAs: "POST /v1/auth/login",
      body: "json",
    },
    auth.token as Handler,
  );
  serve(
    {
      method: "POST",
      path: "/api/auth/token/refresh",
      successor: "/v1/auth/refresh",
      limitAs: "POST /v1/auth/refresh",
      body: "json",
    },
    auth.refresh as Handler,
  );
  serve(
    { method: "GET", path: "/api/v1/auth/user", successor: "/v1/me", limitAs: "GET /v1/me" },
    requireScopes(["account:read"]),
    auth.user as Handler,
  );
  return router;
}
