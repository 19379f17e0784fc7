import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { authHandlers } from "./auth.handlers.ts";
import { loginRoute, logoutRoute, refreshRoute, registerRoute } from "./auth.routes.ts";
import { createAuthService } from "./auth.service.ts";

export function authRouter(deps: Deps) {
  const h = authHandlers(createAuthService(deps));
  return createRouter()
    .openapi(registerRoute, h.register)
    .openapi(loginRoute, h.login)
    .openapi(refreshRoute, h.refresh)
    .openapi(logoutRoute, h.logout);
}
