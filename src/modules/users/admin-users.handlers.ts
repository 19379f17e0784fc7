import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { updateUserRoleRoute } from "./admin-users.routes.ts";
import type { AdminUsersService } from "./admin-users.service.ts";

export function adminUsersHandlers(service: AdminUsersService) {
  const updateRole: RouteHandler<typeof updateUserRoleRoute, AppEnv> = async (c) => {
    const { id } = c.req.valid("param");
    const user = await service.updateRole(id, c.req.valid("json").role, auditActor(c), c.var.clientKey);
    return c.json(user, 200);
  };
  return { updateRole };
}
