import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../core/app-error.ts";
import { authenticateApiKey, authenticateBearer, invalidCredentials } from "../modules/auth/credentials.ts";
import { CACHE_POLICY_EXTENSION, type CachePolicy, httpCache, PRIVATE } from "./cache-policy.ts";
import type { AppEnv } from "./context.ts";
import { httpStatus } from "./errors.ts";
import { type AuthContext, FAIL_CLOSED_SCOPES, type Scope } from "./scopes.ts";

export {
  type AuthContext,
  grantedScopes,
  isScope,
  ROLE_SCOPES,
  type Role,
  SCOPES,
  type Scope,
} from "./scopes.ts";

export const BEARER_SCHEME = "bearerAuth";
export const API_KEY_SCHEME = "apiKeyAuth";
export const API_KEY_HEADER = "X-API-Key";

/** One entry per alternative; the explicit type keeps @hono/zod-openapi's inference of params working. */
export type SecurityRequirement = Record<string, string[]>;

// Only Bearer is a registered HTTP auth scheme; the API-key alternative is documented in the OpenAPI document.
/** The credential a request carries. One per request: a bearer token wins and `X-API-Key` is then ignored. */
type Credential = { kind: "bearer"; token: string | undefined } | { kind: "apiKey"; key: string };

function credentialOf(c: Context<AppEnv>): Credential | undefined {
  // Generators (e.g. @hey-api's `auth` callback) fill every scheme an operation lists, so an app sends its
  // access token in both headers: the bearer is what the user signed in with, the key header is then noise.
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization);
    return { kind: "bearer", token: match?.[1] };
  }
  const apiKey = c.req.header(API_KEY_HEADER);
  return apiKey === undefined ? undefined : { kind: "apiKey", key: apiKey.trim() };
}

/**
 * Reads the credentials once per request (memoised on the context) and sets `c.var.auth`; the rate limit and
 * read-after-write then follow the identity (`user:<id>`) instead of the IP. Never throws for a refused
 * credential: it is kept in `c.var.authError` and only protected routes answer with it. A public operation
 * ignores a stale token, so an app that attaches its token to every request can still refresh and log out.
 */
export async function resolveAuth(c: Context<AppEnv>): Promise<AuthContext | undefined> {
  if (c.get("authResolved")) return c.get("auth");
  c.set("authResolved", true);
  const credential = credentialOf(c);
  if (!credential) return undefined;
  try {
    let auth: AuthContext;
    if (credential.kind === "apiKey") auth = await authenticateApiKey(c.get("deps"), credential.key);
    else if (!credential.token)
      throw invalidCredentials("Send the access token as `Authorization: Bearer <token>`.");
    else auth = await authenticateBearer(c.get("deps"), credential.token);
    c.set("auth", auth);
    c.set("clientKey", `user:${auth.userId}`);
    return auth;
  } catch (err) {
    if (!(err instanceof AppError) || httpStatus(err.code) !== 401) throw err;
    c.set("authError", err);
    return undefined;
  }
}

/** Global: authenticates whatever credentials a request carries, without requiring any. */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  await resolveAuth(c);
  await next();
});

/**
 * Typed on the plain AppEnv so handlers written as `RouteHandler<typeof route, AppEnv>` type-check;
 * read the identity with `authOf(c)`, which is never undefined behind this middleware.
 */
export function requireScopes(scopes: readonly Scope[]): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = await resolveAuth(c);
    const refused = c.get("authError");
    if (refused) throw refused;
    if (!auth) {
      throw new AppError(
        "unauthenticated",
        `Send an access token (Authorization: Bearer) or an API key (${API_KEY_HEADER}).`,
        {
          authChallenge: {},
        },
      );
    }
    if (auth.revocationUnchecked && scopes.some((s) => FAIL_CLOSED_SCOPES.includes(s))) {
      throw new AppError("service_unavailable", "Sessions cannot be checked right now; retry shortly.", {
        retryAfterSeconds: 5,
      });
    }
    const missing = scopes.filter((s) => !auth.scopes.includes(s));
    if (missing.length > 0) {
      throw new AppError("insufficient_scope", `Missing scope: ${missing.join(", ")}.`, {
        authChallenge: { error: "insufficient_scope", scope: missing.join(" ") },
      });
    }
    await next();
  });
}

function requirement(scopes: readonly Scope[]): SecurityRequirement[] {
  return [{ [BEARER_SCHEME]: [...scopes] }, { [API_KEY_SCHEME]: [...scopes] }];
}

/**
 * Spread into `createRoute({...})`: the document's `security` and the runtime check come from one list.
 * `protect("identifications:write")` -> 401 without credentials, 403 `insufficient_scope` without the scope.
 * Every answer of a protected route carries a user's data: `Cache-Control: private, no-store`.
 */
export function protect(...scopes: Scope[]) {
  return protectWith(PRIVATE, ...scopes);
}

/** `protect()` with another private cache policy, e.g. PRIVATE_REVALIDATE for reads an app keeps a copy of. */
export function protectWith(policy: CachePolicy, ...scopes: Scope[]) {
  return {
    security: requirement(scopes),
    middleware: [requireScopes(scopes), httpCache(policy)],
    [CACHE_POLICY_EXTENSION]: policy,
  };
}

/**
 * For public routes that show more to some callers: credentials optional, `c.var.auth` set when valid; a
 * refused credential is ignored like on any public route (the caller is served as anonymous).
 */
export function optionalAuth() {
  const security: SecurityRequirement[] = [...requirement([]), {}];
  // What an admin sees differs from the public answer: never stored by a shared cache.
  return {
    security,
    middleware: [authenticate as MiddlewareHandler<AppEnv>, httpCache(PRIVATE)],
    [CACHE_POLICY_EXTENSION]: PRIVATE,
  };
}

/** `c.get("auth")` for handlers typed with the plain AppEnv; throws if the route was not protected. */
export function authOf(c: { get(key: "auth"): AuthContext | undefined }): AuthContext {
  const auth = c.get("auth");
  if (!auth)
    throw new AppError("unauthenticated", "Authentication is required.", {
      authChallenge: {},
    });
  return auth;
}

export function registerSecuritySchemes(app: Pick<OpenAPIHono, "openAPIRegistry">) {
  app.openAPIRegistry.registerComponent("securitySchemes", BEARER_SCHEME, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "Access token from `POST /v1/auth/login`, `/register` or `/refresh` (15 minutes). When sent, `X-API-Key` " +
      "is ignored.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", API_KEY_SCHEME, {
    type: "apiKey",
    in: "header",
    name: API_KEY_HEADER,
    description:
      "An API key from `POST /v1/api-keys` (`pc_live_...`), limited to the scopes it was created with.",
  });
}
