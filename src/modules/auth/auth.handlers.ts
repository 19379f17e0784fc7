import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import type {
  loginCodeRoute,
  passwordResetConfirmRoute,
  passwordResetRequestRoute,
  resendVerificationRoute,
  verifyEmailRoute,
} from "./account-email.routes.ts";
import type { loginRoute, logoutRoute, refreshRoute, registerRoute } from "./auth.routes.ts";
import type { AuthService } from "./auth.service.ts";

const ACCEPTED = { message: "If the address can be used, a message is on its way." };
const NO_STORE = { "cache-control": "no-store" };

export function authHandlers(service: AuthService) {
  const register: RouteHandler<typeof registerRoute, AppEnv> = async (c) => {
    await service.register(c.req.valid("json"), auditActor(c));
    return c.json(ACCEPTED, 202, NO_STORE);
  };

  const login: RouteHandler<typeof loginRoute, AppEnv> = async (c) => {
    return c.json(await service.login(c.req.valid("json"), auditActor(c)), 200, NO_STORE);
  };

  const refresh: RouteHandler<typeof refreshRoute, AppEnv> = async (c) => {
    const session = await service.refresh(c.req.valid("json").refreshToken, auditActor(c));
    return c.json(session, 200, NO_STORE);
  };

  const logout: RouteHandler<typeof logoutRoute, AppEnv> = async (c) => {
    await service.logout(c.req.valid("json").refreshToken, auditActor(c));
    return c.body(null, 204);
  };

  const verifyEmail: RouteHandler<typeof verifyEmailRoute, AppEnv> = async (c) => {
    await service.verifyEmail(c.req.valid("json").token, auditActor(c));
    return c.body(null, 204);
  };

  const resendVerification: RouteHandler<typeof resendVerificationRoute, AppEnv> = async (c) => {
    await service.resendVerification(authOf(c).userId);
    return c.json(ACCEPTED, 202, NO_STORE);
  };

  const requestPasswordReset: RouteHandler<typeof passwordResetRequestRoute, AppEnv> = async (c) => {
    await service.requestPasswordReset(c.req.valid("json").email, auditActor(c));
    return c.json(ACCEPTED, 202, NO_STORE);
  };

  const confirmPasswordReset: RouteHandler<typeof passwordResetConfirmRoute, AppEnv> = async (c) => {
    const { token, password } = c.req.valid("json");
    await service.confirmPasswordReset(token, password, auditActor(c));
    return c.body(null, 204);
  };

  const requestLoginCode: RouteHandler<typeof loginCodeRoute, AppEnv> = async (c) => {
    await service.requestLoginCode(c.req.valid("json").email, auditActor(c));
    return c.json(ACCEPTED, 202, NO_STORE);
  };

  return {
    register,
    login,
    refresh,
    logout,
    verifyEmail,
    resendVerification,
    requestPasswordReset,
    confirmPasswordReset,
    requestLoginCode,
  };
}
