import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { auditHandlers } from "./audit.handlers.ts";
import { listAuditRoute } from "./audit.routes.ts";

export { type AuditActor, auditActor, recordAudit } from "./audit.record.ts";

export function auditRouter(services: Services) {
  const h = auditHandlers(services.audit);
  return createRouter().openapi(listAuditRoute, h.list);
}
