import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { auditHandlers } from "./audit.handlers.ts";
import { listAuditRoute } from "./audit.routes.ts";
import { createAuditService } from "./audit.service.ts";

export { type AuditActor, auditActor, recordAudit } from "./audit.record.ts";

export function auditRouter(deps: Deps) {
  const h = auditHandlers(createAuditService(deps));
  return createRouter().openapi(listAuditRoute, h.list);
}
