import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import {
  loginCodeRoute,
  passwordResetConfirmRoute,
  passwordResetRequestRoute,
  resendVerificationRoute,
  verifyEmailRoute,
} from "./account-email.routes.ts";
import { authHandlers } from "./auth.handlers.ts";
import { loginRoute, logoutRoute, refreshRoute, registerRoute } from "./auth.routes.ts";

export function authRouter(services: Services) {
  const h = authHandlers(services.auth);
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
