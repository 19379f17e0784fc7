import type { RouterRoute } from "hono/types";
import type { AppError } from "../core/app-error.ts";
import type { Deps } from "../deps.ts";
import type { Services } from "../services.ts";
import type { CachePolicy } from "./cache-policy.ts";
import type { AuthContext } from "./scopes.ts";

/**
 * Read these with `c.get("name")` on the request path, not `c.var.name`: Hono's `c.var` getter builds a new
 * object from every variable set so far (Object.fromEntries) at each access, which measured ~7 % of the CPU of
 * a cached catalogue read (issue #17). `c.get` is one Map lookup.
 */
export type AppVariables = {
  deps: Deps;
  /** Every module's service, built once (src/services.ts); set for /v1 routes with `deps`. */
  services: Services;
  requestId: string;
  /** W3C trace context of this request (see middleware/trace-context.ts) and its trace id, for logs. */
  traceparent: string;
  traceId: string;
  /** Who is calling, for rate limits and read-after-write: a user or key id when authenticated, else the IP. */
  clientKey: string;
  clientIp: string;
  /** Set when the request carried valid credentials (see http/security.ts). */
  auth?: AuthContext;
  /** Credentials were looked at (memo, so the global and per-route middleware verify once). */
  authResolved?: boolean;
  /** The CSP nonce of an HTML answer (see http/csp.ts). */
  cspNonce?: string;
  /** Why the credentials that came were refused; only protected routes answer with it (http/security.ts). */
  authError?: AppError;
  /** The route contract's cache policy (http/cache-policy.ts), applied by the global `conditionalGet`. */
  cachePolicy?: CachePolicy;
  /** The text of the JSON answer in `c.res`, kept beside it (http/json-body.ts): no reading the body back. */
  jsonBody?: { res: Response; text: string; urlsAbsolute: boolean };
  /** The routes this request matched, listed once (middleware/logging.ts `requestRoutes`). */
  matchedRoutes?: RouterRoute[];
  /** Makes a JSON text's URL fields absolute (set by middleware/absolute-urls.ts for `jsonText` answers). */
  absoluteJson?: (text: string) => string;
};

export type AppEnv = { Variables: AppVariables };
export type { RouterRoute };
