import type { Context } from "hono";
import { AppError } from "../core/app-error.ts";
import type { Deps } from "../deps.ts";
import type { AppEnv } from "../http/context.ts";
import { requestOrigin } from "../http/middleware/absolute-urls.ts";
import { type AuthContext, FAIL_CLOSED_SCOPES, type Scope } from "../http/scopes.ts";
import { API_KEY_HEADER } from "../http/security.ts";
import { type AuditActor, auditActor } from "../modules/audit/audit.record.ts";
import type { Services } from "../services.ts";
import { createLoaders, type Loaders } from "./loaders.ts";

/** What the operation did, read by the route after yoga answered (cache headers). */
export type Usage = { private: boolean; errored: boolean; cost: number; operationName: string };

/** What yoga receives from the Hono route: the request's context, after the shared middleware chain ran. */
export type ServerContext = { hono: Context<AppEnv>; usage: Usage };

export type GraphQLContext = {
  deps: Deps;
  services: Services;
  auth: AuthContext | undefined;
  /** Credentials came and were refused (expired, revoked): fields that need a caller answer with this. */
  authError: AppError | undefined;
  clientKey: string;
  requestId: string;
  traceparent: string;
  /** The origin clients reach us at: image URLs are absolute, as in REST answers. */
  origin: string;
  actor: AuditActor;
  loaders: Loaders;
  /** Set by any field that depends on the caller: such answers are never cacheable by a CDN. */
  usage: Usage;
};

export function buildContext(
  deps: Deps,
  services: Services,
  { hono: c, usage }: ServerContext,
): GraphQLContext {
  const trustProxy = Boolean(deps.config.http.trustProxyHeader) || deps.config.http.trustProxyCount > 0;
  return {
    deps,
    services,
    auth: c.var.auth,
    authError: c.var.authError,
    clientKey: c.var.clientKey,
    requestId: c.var.requestId,
    traceparent: c.var.traceparent,
    origin: requestOrigin(c, { publicBaseUrl: deps.config.publicBaseUrl, trustProxy }),
    actor: auditActor(c),
    loaders: createLoaders(deps, c.var.clientKey, c.var.auth?.userId),
    usage,
  };
}

/**
 * The same rules as REST's `requireScopes` (http/security.ts), per field: no caller 401-like `unauthenticated`,
 * refused credentials keep their own code (`token_expired`, `invalid_token`), a missing scope
 * `insufficient_scope`, and a fail-closed scope while sessions cannot be checked `service_unavailable`.
 */
export function requireScope(ctx: GraphQLContext, scope: Scope): AuthContext {
  ctx.usage.private = true;
  if (ctx.authError) throw ctx.authError;
  const auth = ctx.auth;
  if (!auth) {
    throw new AppError(
      "unauthenticated",
      `Send an access token (Authorization: Bearer) or an API key (${API_KEY_HEADER}).`,
    );
  }
  if (auth.revocationUnchecked && FAIL_CLOSED_SCOPES.includes(scope)) {
    throw new AppError("service_unavailable", "Sessions cannot be checked right now; retry shortly.", {
      retryAfterSeconds: 5,
    });
  }
  if (!auth.scopes.includes(scope)) throw new AppError("insufficient_scope", `Missing scope: ${scope}.`);
  return auth;
}
