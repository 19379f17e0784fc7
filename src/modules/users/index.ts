import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { adminUsersHandlers } from "./admin-users.handlers.ts";
import { updateUserRoleRoute } from "./admin-users.routes.ts";
import { createAdminUsersService } from "./admin-users.service.ts";
import { usersHandlers } from "./users.handlers.ts";
import { deleteMeRoute, getMeRoute, updateMeRoute } from "./users.routes.ts";
import { createUsersService } from "./users.service.ts";

export function usersRouter(deps: Deps) {
  const h = usersHandlers(createUsersService(deps));
  const admin = adminUsersHandlers(createAdminUsersService(deps));
  return createRouter()
    .openapi(getMeRoute, h.get)
    .openapi(updateMeRoute, h.update)
    .openapi(deleteMeRoute, h.remove)
    .openapi(updateUserRoleRoute, admin.updateRole);
}
