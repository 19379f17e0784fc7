import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { withPageLinks } from "../../http/pagination.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import { presentApiKey } from "./api-keys.links.ts";
import type {
  createApiKeyRoute,
  deleteApiKeyRoute,
  getApiKeyRoute,
  listApiKeysRoute,
} from "./api-keys.routes.ts";
import type { ApiKeysService } from "./api-keys.service.ts";

export function apiKeysHandlers(service: ApiKeysService) {
  const create: RouteHandler<typeof createApiKeyRoute, AppEnv> = async (c) => {
    const created = await service.create(authOf(c), c.req.valid("json"), auditActor(c), c.var.clientKey);
    return c.json(presentApiKey(created, linkerFor(c)), 201, {
      Location: `/v1/api-keys/${created.id}`,
      "cache-control": "no-store",
    });
  };

  const list: RouteHandler<typeof listApiKeysRoute, AppEnv> = async (c) => {
    const page = withPageLinks(
      c,
      await service.list(authOf(c).userId, c.req.valid("query"), c.var.clientKey),
    );
    const l = linkerFor(c);
    return c.json({ ...page, data: page.data.map((k) => presentApiKey(k, l)) }, 200);
  };

  const get: RouteHandler<typeof getApiKeyRoute, AppEnv> = async (c) => {
    const key = await service.get(authOf(c).userId, c.req.valid("param").id, c.var.clientKey);
    return c.json(presentApiKey(key, linkerFor(c)), 200);
  };

  const remove: RouteHandler<typeof deleteApiKeyRoute, AppEnv> = async (c) => {
    await service.revoke(authOf(c).userId, c.req.valid("param").id, auditActor(c), c.var.clientKey);
    return c.body(null, 204);
  };

  return { create, list, get, remove };
}
