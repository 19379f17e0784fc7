import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { AccountExportSchema, ArchiveQuerySchema } from "./account-data.schemas.ts";

const tags = ["Account"];
const exportJson = (description: string) => ({
  description,
  content: { "application/json": { schema: AccountExportSchema } },
});

export const requestExportRoute = createRoute({
  method: "post",
  path: "/me/export",
  operationId: "requestAccountExport",
  tags,
  summary: "Request an archive of your data",
  description:
    "Builds an archive (profile, identifications as JSON, the photos) in the background. When it is ready you get " +
    "a notification and an e-mail with a download link signed for you and valid for 24 hours. While an export is " +
    "being built, asking again answers that one.",
  ...protect("account:read", "identifications:read"),
  responses: {
    202: {
      ...exportJson("Accepted; poll `Location` or wait for the notification."),
      headers: { Location: { description: "The export.", schema: { type: "string" } } },
    },
    ...errorResponses(401, 403, 503),
  },
});

export const getExportRoute = createRoute({
  method: "get",
  path: "/me/exports/{id}",
  operationId: "getAccountExport",
  tags,
  summary: "One of your exports",
  description: "While `ready`, `links.download` is a freshly usable signed link to the archive.",
  ...protect("account:read", "identifications:read"),
  request: { params: UuidParamSchema },
  responses: { 200: exportJson("The export."), ...errorResponses(400, 401, 403, 404) },
});

export const downloadExportRoute = createRoute({
  method: "get",
  path: "/me/exports/{id}/archive",
  operationId: "downloadAccountExport",
  tags,
  summary: "Download an export archive (signed link)",
  description:
    "The link from the notification, the e-mail or `links.download`, sent with your credentials: another " +
    "account's export answers 404, a changed link 403 `invalid_link_signature`, an expired one 410 `link_expired`.",
  ...protect("account:read", "identifications:read"),
  request: { params: UuidParamSchema, query: ArchiveQuerySchema },
  responses: {
    200: {
      description: "The archive (gzipped tar).",
      content: { "application/gzip": { schema: { type: "string", format: "binary" } } },
    },
    ...errorResponses(400, 401, 403, 404, 410),
  },
});
