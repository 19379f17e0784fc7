import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import {
  loginCodeRoute,
  passwordResetConfirmRoute,
  passwordResetRequestRoute,
  resendVerificationRoute,
  verifyEmailRoute,
} from "./account-email.routes.ts";
import { authHandlers } from "./auth.handlers.ts";
import { loginRoute, logoutRoute, refreshRoute, registerRoute } from "./auth.routes.ts";
import { createAuthService } from "./auth.service.ts";

export function authRouter(deps: Deps) {
  const h = authHandlers(createAuthService(deps));
  return createRouter()
    .openapi(registerRoute, h.register)
    .openapi(loginRoute, h.login)
    .openapi(refreshRoute, h.refresh)
    .openapi(logoutRoute, h.logout)
    .openapi(verifyEmailRoute, h.verifyEmail)
    .openapi(resendVerificationRoute, h.resendVerification)
    .openapi(passwordResetRequestRoute, h.requestPasswordReset)
    .openapi(passwordResetConfirmRoute, h.confirmPasswordReset)
    .openapi(loginCodeRoute, h.requestLoginCode);
}
