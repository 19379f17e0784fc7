import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { AuditPageSchema, AuditQuerySchema } from "./audit.schemas.ts";

export const listAuditRoute = createRoute({
  method: "get",
  path: "/admin/audit",
  operationId: "listAuditLog",
  tags: ["Admin"],
  summary: "The audit log (admin)",
  description:
    "Who changed what, when and from where: account, key, role and admin changes. Newest first; filter by " +
    "actor, action, entity and time range; follow `links.next` for older entries.",
  ...protect("admin"),
  request: { query: AuditQuerySchema },
  responses: {
    200: { description: "A page of entries.", content: { "application/json": { schema: AuditPageSchema } } },
    ...errorResponses(400, 401, 403, 503),
  },
});
