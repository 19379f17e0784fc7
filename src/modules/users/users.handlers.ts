import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import { presentMe } from "./users.links.ts";
import type { deleteMeRoute, getMeRoute, updateMeRoute } from "./users.routes.ts";
import type { UsersService } from "./users.service.ts";

export function usersHandlers(service: UsersService) {
  const get: RouteHandler<typeof getMeRoute, AppEnv> = async (c) => {
    const me = await service.getMe(authOf(c).userId, c.var.clientKey);
    return c.json(presentMe(me, linkerFor(c)), 200);
  };

  const update: RouteHandler<typeof updateMeRoute, AppEnv> = async (c) => {
    const user = await service.updateMe(
      authOf(c).userId,
      c.req.valid("json"),
      auditActor(c),
      c.var.clientKey,
    );
    return c.json(presentMe(user, linkerFor(c)), 200);
  };

  const remove: RouteHandler<typeof deleteMeRoute, AppEnv> = async (c) => {
    await service.deleteMe(authOf(c).userId, auditActor(c), c.var.clientKey);
    return c.body(null, 204);
  };

  return { get, update, remove };
}
