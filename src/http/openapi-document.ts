import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { APP_ROOT } from "../app-root.ts";
import type { Config } from "../config/index.ts";
import { decorateDocument } from "./openapi-decorate.ts";
import { registerSecuritySchemes } from "./security.ts";

export function buildOpenApiDocument(app: OpenAPIHono<any, any, any>, config: Config) {
  registerSecuritySchemes(app);
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Plant Community API",
      version: "1.0.0",
      description:
        "Identify plants from photos, keep your history, and browse the species catalogue with care instructions. " +
        "Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`.\n\n" +
        "**Credentials.** Send one credential: `Authorization: Bearer <accessToken>` or `X-API-Key`. When both " +
        "come, the bearer token wins and `X-API-Key` is ignored (generated clients fill every scheme an " +
        "operation lists). Operations that need no credential ignore any credential sent, valid or not. A " +
        "protected operation answers 401 `token_expired` for an expired access token (refresh the session, " +
        "then retry) and 401 `invalid_token` for a revoked, tampered or unknown credential (sign in again), " +
        'both with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750); no credential at all is ' +
        "401 `unauthenticated`.\n\n" +
        "**Open enums.** Enumerations in responses are written `anyOf: [{enum: [...]}, {type: string}]` " +
        "(`x-open-enum: true`): values may be added, and clients must accept ones they do not know. " +
        "Enumerations in requests are closed.\n\n" +
        "**Legacy paths.** The `/api/...` paths of earlier app builds are served in place until the sunset, " +
        "outside this document, each answer carrying `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and " +
        '`Link: <successor>; rel="successor-version"`; after the sunset they answer 410 `endpoint_retired`.',
      contact: { name: "Plant Community", url: "https://plant.community" },
      license: { name: "Proprietary", url: "https://plant.community/terms" },
    },
    servers: [{ url: config.publicBaseUrl ?? `http://localhost:${config.port}`, description: "This server" }],
    tags: [
      { name: "Species", description: "The species catalogue." },
      {
        name: "Identifications",
        description: "Identify plants from photos (at once, in the background, or in batches); your history.",
      },
      {
        name: "Auth",
        description: "Sign-up, sign-in and token refresh (Bearer access tokens, rotating refresh tokens).",
      },
      { name: "Account", description: "The signed-in account." },
      {
        name: "Providers",
        description:
          "Plant.id and PlantNet as we see them: circuit breaker state and, for admins, quota use.",
      },
      {
        name: "API keys",
        description: "Keys for integrations, sent as `X-API-Key`, limited to their scopes.",
      },
      { name: "Notifications", description: "In-app notifications, e.g. when background work is done." },
      {
        name: "Security",
        description:
          "Content-Security-Policy violation reports sent by browsers (report-uri and Reporting API).",
      },
      { name: "Admin", description: "Administration: roles, the audit log and failed background jobs." },
      { name: "System", description: "Liveness and readiness probes." },
    ],
  });
  decorateDocument(document as Parameters<typeof decorateDocument>[0]);
  return document;
}

export const docsAssetPath = "/v1/docs/scalar.js";

/**
 * The reference page's own additions to the HTML base policy (http/csp.ts): Scalar's bundle is served from our
 * origin with the nonce; its components set inline style attributes, so styles stay 'unsafe-inline' (a nonce in
 * style-src would switch that off).
 */
export const docsPagePolicy = {
  "style-src": ["'self'", "'unsafe-inline'"],
} as const;

/**
 * Where the reference page's script comes from: the production image carries only this one file of
 * @scalar/api-reference (a dev dependency that pulls Vue, an AI SDK and TypeScript), copied by the Dockerfile;
 * a development checkout reads it from node_modules.
 */
export const DOCS_BUNDLE_FILE = path.join(APP_ROOT, "dist/docs/scalar-api-reference.js");

let bundle: Uint8Array | undefined;
export function scalarBundle(): Uint8Array {
  if (!bundle) {
    if (existsSync(DOCS_BUNDLE_FILE)) {
      bundle = readFileSync(DOCS_BUNDLE_FILE);
    } else {
      const require = createRequire(import.meta.url);
      const pkg = require.resolve("@scalar/api-reference/package.json");
      bundle = readFileSync(pkg.replace(/package\.json$/, "dist/browser/standalone.js"));
    }
  }
  return bundle;
}
