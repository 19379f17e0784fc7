import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { UserSchema } from "./users.schemas.ts";

export const UpdateRoleSchema = z
  .object({ role: z.enum(["user", "premium", "admin"]).openapi({ example: "premium" }) })
  .strict()
  .openapi("UpdateRole");

export const updateUserRoleRoute = createRoute({
  method: "patch",
  path: "/admin/users/{id}",
  operationId: "updateUserRole",
  tags: ["Admin"],
  summary: "Change a user's role (admin)",
  description:
    "A demotion takes effect on the user's next request; a promotion once the user's app refreshes its tokens. " +
    "Audited as `user.role_change`.",
  ...protect("admin"),
  request: {
    params: UuidParamSchema,
    body: { required: true, content: { "application/json": { schema: UpdateRoleSchema } } },
  },
  responses: {
    200: {
      description: "The user with the new role.",
      content: { "application/json": { schema: UserSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 415, 503),
  },
});
