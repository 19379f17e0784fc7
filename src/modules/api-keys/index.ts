import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { apiKeysHandlers } from "./api-keys.handlers.ts";
import { createApiKeyRoute, deleteApiKeyRoute, getApiKeyRoute, listApiKeysRoute } from "./api-keys.routes.ts";
import { createApiKeysService } from "./api-keys.service.ts";

export function apiKeysRouter(deps: Deps) {
  const h = apiKeysHandlers(createApiKeysService(deps));
  return createRouter()
    .openapi(createApiKeyRoute, h.create)
    .openapi(listApiKeysRoute, h.list)
    .openapi(getApiKeyRoute, h.get)
    .openapi(deleteApiKeyRoute, h.remove);
}
