import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { loginRoute, logoutRoute, refreshRoute, registerRoute } from "./auth.routes.ts";
import type { AuthService } from "./auth.service.ts";

export function authHandlers(service: AuthService) {
  const register: RouteHandler<typeof registerRoute, AppEnv> = async (c) => {
    return c.json(await service.register(c.req.valid("json"), auditActor(c)), 201, {
      "cache-control": "no-store",
    });
  };

  const login: RouteHandler<typeof loginRoute, AppEnv> = async (c) => {
    return c.json(await service.login(c.req.valid("json"), auditActor(c)), 200, {
      "cache-control": "no-store",
    });
  };

  const refresh: RouteHandler<typeof refreshRoute, AppEnv> = async (c) => {
    const session = await service.refresh(c.req.valid("json").refreshToken, auditActor(c));
    return c.json(session, 200, { "cache-control": "no-store" });
  };

  const logout: RouteHandler<typeof logoutRoute, AppEnv> = async (c) => {
    await service.logout(c.req.valid("json").refreshToken, auditActor(c));
    return c.body(null, 204);
  };

  return { register, login, refresh, logout };
}
