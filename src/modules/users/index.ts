import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { adminUsersHandlers } from "./admin-users.handlers.ts";
import { updateUserRoleRoute } from "./admin-users.routes.ts";
import { usersHandlers } from "./users.handlers.ts";
import { deleteMeRoute, getMeRoute, updateMeRoute } from "./users.routes.ts";

export function usersRouter(services: Services) {
  const h = usersHandlers(services.users);
  const admin = adminUsersHandlers(services.adminUsers);
  return createRouter()
    .openapi(getMeRoute, h.get)
    .openapi(updateMeRoute, h.update)
    .openapi(deleteMeRoute, h.remove)
    .openapi(updateUserRoleRoute, admin.updateRole);
}
