import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { accountDataHandlers } from "./account-data.handlers.ts";
import { downloadExportRoute, getExportRoute, requestExportRoute } from "./account-data.routes.ts";

/** POST /v1/me/export and the export resources; erasure runs in the account.erase job (workers/jobs). */
export function accountDataRouter(services: Services) {
  const h = accountDataHandlers(services.accountExports);
  return createRouter()
    .openapi(requestExportRoute, h.request)
    .openapi(getExportRoute, h.get)
    .openapi(downloadExportRoute, h.download);
}
