import { describe, expect, test } from "bun:test";
import { grantedScopes, ROLE_SCOPES, type Role, type Scope } from "../../src/http/scopes.ts";
import type { TestApp } from "./app.ts";
import {
  bearer,
  createApiKey,
  expiredAccessToken,
  registerUser,
  type TestUser,
  tamperedToken,
} from "./auth.ts";
import { expectProblem } from "./problem.ts";

export type RouteContext = { app: TestApp; caller: TestUser };

export type ProtectedRoute = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path the caller uses; may create the caller's own resource first. */
  path: (ctx: RouteContext) => string | Promise<string>;
  /** The scope the route declares (with `protect(scope)`). */
  scope: Scope;
  /** The role a caller needs to hold the scope (default `user`; `admin` for admin routes). */
  role?: Role;
  /** A valid body/headers for the route, so only authentication decides the answer. */
  init?: (
    ctx: RouteContext,
  ) =>
    | { body?: RequestInit["body"]; headers?: Record<string, string> }
    | Promise<{ body?: RequestInit["body"]; headers?: Record<string, string> }>;
  /**
   * Creates a resource owned by `owner` and returns the path that reaches it. When given, the suite checks that
   * another user (with every scope the route needs) gets 404, never 403.
   */
  foreignResource?: (app: TestApp, owner: TestUser) => Promise<string>;
};

async function call(
  app: TestApp,
  route: ProtectedRoute,
  caller: TestUser,
  auth: Record<string, string>,
  path?: string,
) {
  const ctx = { app, caller };
  const extra = (await route.init?.(ctx)) ?? {};
  return app.request(path ?? (await route.path(ctx)), {
    method: route.method,
    body: extra.body,
    headers: { ...extra.headers, ...auth },
  });
}

/**
 * The checks every protected route must pass (issue #3): no credentials -> 401, wrong scope -> 403 naming the
 * scope, another user's resource -> 404, expired token -> 401, tampered token -> 401, soft-deleted user -> 401.
 * Call inside a test file with a getter for the app built in `beforeAll`.
 */
export function describeProtectedRoute(getApp: () => TestApp, name: string, route: ProtectedRoute) {
  const role = route.role ?? "user";

  describe(`${name} (${route.method}, needs ${route.scope})`, () => {
    test("a request without credentials is refused with 401 and a WWW-Authenticate challenge", async () => {
      const app = getApp();
      const caller = await registerUser(app, { role });
      const res = await call(app, route, caller, {});
      await expectProblem(res, 401, "unauthenticated");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    });

    test("an API key without the route's scope is refused with 403 naming the missing scope", async () => {
      const app = getApp();
      const caller = await registerUser(app, { role });
      const others = grantedScopes(role, ROLE_SCOPES[role]).filter((s) => s !== route.scope);
      expect(others.length).toBeGreaterThan(0);
      const key = await createApiKey(app, caller.accessToken, others);
      const body = await expectProblem(
        await call(app, route, caller, key.headers),
        403,
        "insufficient_scope",
      );
      expect(body.detail).toContain(route.scope);
    });

    if (route.foreignResource) {
      const foreign = route.foreignResource;
      test("another user's resource answers 404, never 403", async () => {
        const app = getApp();
        const owner = await registerUser(app, { role });
        const intruder = await registerUser(app, { role });
        const path = await foreign(app, owner);
        await expectProblem(await call(app, route, intruder, intruder.headers, path), 404, "not_found");
      });
    }

    test("an expired access token is refused with 401 token_expired (refresh) and an RFC 6750 challenge", async () => {
      const app = getApp();
      const caller = await registerUser(app, { role });
      const res = await call(app, route, caller, bearer(await expiredAccessToken(app, caller)));
      const body = await expectProblem(res, 401, "token_expired");
      expect(body.detail).toContain("expired");
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    });

    test("a tampered access token is refused with 401 invalid_token (sign in again)", async () => {
      const app = getApp();
      const caller = await registerUser(app, { role });
      await expectProblem(
        await call(app, route, caller, bearer(tamperedToken(caller.accessToken))),
        401,
        "invalid_token",
      );
    });

    test("a soft-deleted user's still-unexpired token is refused with 401", async () => {
      const app = getApp();
      const caller = await registerUser(app, { role });
      const path = await route.path({ app, caller });
      const deleted = await app.request("/v1/me", { method: "DELETE", headers: caller.headers });
      expect(deleted.status).toBe(204);
      await expectProblem(await call(app, route, caller, caller.headers, path), 401, "invalid_token");
    });
  });
}
