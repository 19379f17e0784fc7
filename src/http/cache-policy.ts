import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.ts";
import { jsonBodyOf } from "./json-body.ts";

/**
 * HTTP caching declared in the route contract (like `protect()`): the runtime header and the document's
 * (`x-cache-policy`, turned into response headers by http/openapi-decorate.ts) come from the same value.
 */
export type CachePolicy = Readonly<{ cacheControl: string; etag: boolean }>;
export const CACHE_POLICY_EXTENSION = "x-cache-policy";

/**
 * The species catalogue changes only when an admin edits it. Five minutes matches the server's own species
 * cache (SPECIES_CACHE_TTL_SECONDS): an edit reaches every app within one TTL, and after that a revalidation
 * with the ETag costs a 304 without a body.
 */
export const PUBLIC_CATALOGUE: CachePolicy = { cacheControl: "public, max-age=300", etag: true };
/** A user's data or secrets: never stored by a browser or shared cache (issue #18). */
export const PRIVATE: CachePolicy = { cacheControl: "private, no-store", etag: false };
/** Private, but with an ETag so an app that keeps its own copy can revalidate with If-None-Match. */
export const PRIVATE_REVALIDATE: CachePolicy = { cacheControl: "private, no-store", etag: true };

/** Spread into `createRoute({...})` of a route without credentials. */
export function publicRoute(policy: CachePolicy) {
  return { security: [], middleware: httpCache(policy), [CACHE_POLICY_EXTENSION]: policy };
}

/**
 * A strong validator: the SHA-256 of the exact bytes sent (RFC 9110 §8.8.3). Bun's one-shot SHA-256 gives the
 * same digest as node:crypto's createHash without its Hash object (~0.3 µs less per cached read).
 */
export function strongEtag(bytes: Uint8Array | string): string {
  return `"${Bun.SHA256.hash(bytes, "base64url").slice(0, 32)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match compares weakly; `*` matches any current representation. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return true;
  return !header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}

/** Route middleware: declares the policy; `conditionalGet` (global, outermost) applies it to the final bytes. */
export function httpCache(policy: CachePolicy): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>((c, next) => {
    c.set("cachePolicy", policy);
    return next();
  });
}

/**
 * Global, outside every rewrite of the body (absolute URLs): sets Cache-Control on successful answers and, for
 * GETs of a policy with `etag`, a strong ETag of the exact bytes sent, answering If-None-Match with 304.
 */
export const conditionalGet = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const policy = c.get("cachePolicy");
  const status = c.res.status;
  // Error answers carry their own `no-store` (http/errors.ts).
  if (!policy || status < 200 || status >= 300) return;
  c.res.headers.set("Cache-Control", policy.cacheControl);
  if (!policy.etag || status !== 200 || (c.req.method !== "GET" && c.req.method !== "HEAD")) return;
  // JSON answers: the kept text (its UTF-8 encoding is the bytes sent); anything else: the body's bytes.
  const json = c.res.headers.get("content-type")?.startsWith("application/json");
  const etag = strongEtag(json ? await jsonBodyOf(c) : new Uint8Array(await c.res.clone().arrayBuffer()));
  c.res.headers.set("ETag", etag);
  if (noneMatch(c.req.header("if-none-match"), etag)) return;
  const headers = new Headers(c.res.headers);
  for (const h of ["content-type", "content-length"]) headers.delete(h);
  c.res = undefined; // drop the 200 and its body rather than merging its headers into the 304
  c.res = new Response(null, { status: 304, headers });
});
