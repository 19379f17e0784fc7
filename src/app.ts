import { Scalar } from "@scalar/hono-api-reference";
import type { Context } from "hono";
import { AppError } from "./core/app-error.ts";
import type { Deps } from "./deps.ts";
import { graphqlBodyPolicy, graphqlRouter } from "./graphql/routes.ts";
import { conditionalGet } from "./http/cache-policy.ts";
import type { AppEnv } from "./http/context.ts";
import { cspNonce, htmlPage } from "./http/csp.ts";
import { errorHandler, problem } from "./http/error-handler.ts";
import { protectedMetricsHandler } from "./http/metrics-server.ts";
import { absoluteUrls } from "./http/middleware/absolute-urls.ts";
import { activeUsers } from "./http/middleware/active-users.ts";
import { bodyGuards } from "./http/middleware/body-guards.ts";
import { clientIdentity } from "./http/middleware/client-identity.ts";
import { httpMetrics } from "./http/middleware/http-metrics.ts";
import { legacyRedirect } from "./http/middleware/legacy-redirect.ts";
import { requestLogging } from "./http/middleware/logging.ts";
import { allowedMethodsLookup } from "./http/middleware/method-not-allowed.ts";
import { rateLimit } from "./http/middleware/rate-limit.ts";
import { requestId } from "./http/middleware/request-id.ts";
import { securityHeaders } from "./http/middleware/security-headers.ts";
import { requestTrace } from "./http/middleware/trace-context.ts";
import { trailingSlashAnswer } from "./http/middleware/trailing-slash.ts";
import {
  buildOpenApiDocument,
  docsAssetPath,
  docsPagePolicy,
  scalarBundle,
} from "./http/openapi-document.ts";
import { createAppRouter } from "./http/router.ts";
import { accountDataRouter } from "./modules/account-data/index.ts";
import { apiKeysRouter } from "./modules/api-keys/index.ts";
import { auditRouter } from "./modules/audit/index.ts";
import { authRouter } from "./modules/auth/index.ts";
import { cspReportBodyPolicy, cspReportsRouter, legacyCspReportRouter } from "./modules/csp-reports/index.ts";
import { batchBodyPolicy, identificationBatchesRouter } from "./modules/identification-batches/index.ts";
import { identificationBodyPolicy, identificationsRouter } from "./modules/identifications/index.ts";
import { jobsRouter } from "./modules/jobs/index.ts";
import { legacyRouter } from "./modules/legacy/index.ts";
import { modelsRouter } from "./modules/models/index.ts";
import { notificationsRouter } from "./modules/notifications/index.ts";
import { providersRouter } from "./modules/providers/index.ts";
import { speciesRouter } from "./modules/species/index.ts";
import { systemRouter } from "./modules/system/index.ts";
import { uploadBodyPolicy, uploadsRouter } from "./modules/uploads/index.ts";
import { usersRouter } from "./modules/users/index.ts";
import { buildServices, type Services } from "./services.ts";

/** `services` defaults to one set built from `deps` (src/services.ts); pass them to share an existing set. */
export function createApp(deps: Deps, services: Services = buildServices(deps)) {
  const { config, logger } = deps;
  const app = createAppRouter();

  app.use(requestId);
  app.use(requestTrace(deps.telemetry.tracing.tracer));
  app.use(requestLogging(logger));
  app.use(securityHeaders(config.http.hstsMaxAgeSeconds));
  app.use(httpMetrics(deps.metrics));
  app.use(activeUsers(deps.redis.cache, config.redis.keyPrefix, deps.metrics, () => deps.clock.now()));
  app.use(clientIdentity(config.http.trustProxyHeader, config.http.trustProxyCount));
  // Before the /api redirect: the old CSP report path is answered in place (browsers do not follow redirects).
  app.route("/", legacyCspReportRouter(deps, services));
  // Served in place (old shapes, no redirect) before the redirect below catches the other /api paths.
  app.route("/", legacyRouter(deps, services));
  app.use(
    "/api/*",
    legacyRedirect({ sunset: config.http.legacySunset, deprecatedAt: config.http.legacyDeprecatedAt }),
  );
  app.use(
    "/api",
    legacyRedirect({ sunset: config.http.legacySunset, deprecatedAt: config.http.legacyDeprecatedAt }),
  );
  app.use(
    "/v1/*",
    bodyGuards({
      defaultMaxBytes: config.http.maxBodyBytes,
      policyFor: (path) =>
        identificationBodyPolicy(deps)(path) ??
        batchBodyPolicy(deps)(path) ??
        cspReportBodyPolicy(deps)(path) ??
        uploadBodyPolicy(deps)(path) ??
        graphqlBodyPolicy(deps)(path),
    }),
  );
  app.use("/v1/*", (c, next) => {
    c.set("deps", deps);
    c.set("services", services);
    return next();
  });
  // Authenticates whatever credentials came (c.var.auth, clientKey = user:<id>), then the per-endpoint limit.
  app.use("/v1/*", rateLimit(deps));
  // Outermost first: the ETag is computed on the final bytes, after URLs were made absolute.
  app.use("/v1/*", conditionalGet);
  app.use(
    "/v1/*",
    absoluteUrls({
      publicBaseUrl: config.publicBaseUrl,
      trustProxy: Boolean(config.http.trustProxyHeader) || config.http.trustProxyCount > 0,
    }),
  );

  app.route("/", systemRouter(deps));
  app.route("/v1", speciesRouter(services));
  app.route("/v1", authRouter(services));
  app.route("/v1", usersRouter(services));
  app.route("/v1", accountDataRouter(services));
  app.route("/v1", apiKeysRouter(services));
  app.route("/v1", auditRouter(services));
  app.route("/v1", identificationsRouter(deps, services));
  app.route("/v1", uploadsRouter(services));
  app.route("/v1", providersRouter(services));
  app.route("/v1", modelsRouter(services));
  app.route("/v1", identificationBatchesRouter(deps, services));
  app.route("/v1", notificationsRouter(services));
  app.route("/v1", jobsRouter(services));
  app.route("/v1", cspReportsRouter(deps, services));
  app.route("/", graphqlRouter(deps, services));

  // Built once, on the first request for it: generating the document per request is slow and has leaked
  // memory elsewhere, and building it at start cost 0.2-0.35 s of start-to-ready (issue #11) that no catalogue
  // read needs. The contract tests build it from `createApp(...).document`, so a broken document still fails CI.
  let openApi: { document: ReturnType<typeof buildOpenApiDocument>; bytes: string } | undefined;
  const builtDocument = () => {
    if (!openApi) {
      const document = buildOpenApiDocument(app, config);
      openApi = { document, bytes: JSON.stringify(document) };
    }
    return openApi;
  };
  app.get("/v1/openapi.json", (c) =>
    c.body(builtDocument().bytes, 200, {
      "content-type": "application/json",
      "cache-control": "public, max-age=300",
    }),
  );
  app.get(docsAssetPath, (c) =>
    c.body(scalarBundle() as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=86400",
    }),
  );
  app.get(
    "/v1/docs",
    htmlPage(config, docsPagePolicy),
    Scalar((c: Context<AppEnv>) => ({
      url: "/v1/openapi.json",
      pageTitle: "Plant Community API",
      cdn: docsAssetPath,
      // Scalar would fetch its fonts from fonts.scalar.com: blocked by the policy (and a third party).
      withDefaultFonts: false,
      nonce: cspNonce(c),
    })),
  );

  // Normally scraped on the internal METRICS_PORT; on the public port only with the token.
  if (config.metrics.token)
    app.get("/metrics", protectedMetricsHandler(deps.metrics.registry, config.metrics.token, logger));

  const allowedMethods = allowedMethodsLookup(app);
  app.notFound((c) => {
    const canonical = trailingSlashAnswer(c, allowedMethods);
    if (canonical) return canonical;
    const allow = allowedMethods(c.req.path);
    if (allow.length > 0) {
      return problem(
        c,
        new AppError("method_not_allowed", `Use ${allow.join(", ")}.`, {
          allowedMethods: allow,
        }),
      );
    }
    return problem(c, new AppError("route_not_found", `No route for ${c.req.method} ${c.req.path}.`));
  });

  app.onError(errorHandler(logger, deps.telemetry.errors));

  return {
    app,
    services,
    get document() {
      return builtDocument().document;
    },
  };
}
