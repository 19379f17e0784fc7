import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/context.ts";
import { readBodyBytes } from "./csp-reports.body.ts";
import type { listCspViolationsRoute } from "./csp-reports.routes.ts";
import type { CspReportsService } from "./csp-reports.service.ts";

export function cspReportsHandlers(service: CspReportsService, maxBytes: number) {
  const receive = async (c: Context<AppEnv>) => {
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const bytes = await readBodyBytes(c.req.raw, maxBytes);
    await service.ingest(mediaType, bytes, c.req.header("user-agent") ?? "");
    return c.body(null, 204);
  };
  const list: RouteHandler<typeof listCspViolationsRoute, AppEnv> = async (c) =>
    c.json(await service.summary(c.req.valid("query"), c.var.clientKey), 200);
  return { receive, list };
}
