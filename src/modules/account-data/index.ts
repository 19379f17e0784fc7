import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { accountDataHandlers } from "./account-data.handlers.ts";
import { downloadExportRoute, getExportRoute, requestExportRoute } from "./account-data.routes.ts";
import { createExportsService } from "./exports.ts";

/** POST /v1/me/export and the export resources; erasure runs in the account.erase job (workers/jobs). */
export function accountDataRouter(deps: Deps) {
  const h = accountDataHandlers(createExportsService(deps));
  return createRouter()
    .openapi(requestExportRoute, h.request)
    .openapi(getExportRoute, h.get)
    .openapi(downloadExportRoute, h.download);
}
