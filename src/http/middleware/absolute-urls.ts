import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";
import { jsonBodyOf, keepJsonBody } from "../json-body.ts";

/** Behind a proxy we trust (TRUST_PROXY_HEADER or TRUST_PROXY_COUNT), it tells us the origin the client used. */
export type OriginOptions = { publicBaseUrl: string | undefined; trustProxy: boolean };

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** PUBLIC_BASE_URL when set; else the request's own origin, as the trusted proxy saw it. */
export function requestOrigin(c: Context<AppEnv>, opts: OriginOptions): string {
  if (opts.publicBaseUrl) return opts.publicBaseUrl.replace(/\/+$/, "");
  if (!opts.trustProxy) return originOf(c.req.url);
  const url = new URL(c.req.url);
  const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim() ?? c.req.header("host");
  const scheme = proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1);
  return host && HOST.test(host) ? `${scheme}://${host}` : `${scheme}://${url.host}`;
}

/*
 * The origin of an absolute request URL, parsed once per distinct scheme+authority: a server sees one or a few
 * (its host names), and parsing the whole URL per request measured ~1 µs of a cached read (issue #17). The key
 * is the URL up to its path, so the answer is exactly `new URL(url).origin`.
 */
const origins = new Map<string, string>();
function originOf(url: string): string {
  const pathAt = url.indexOf("/", url.indexOf("//") + 2);
  const authority = pathAt === -1 ? url : url.slice(0, pathAt);
  let origin = origins.get(authority);
  if (origin === undefined) {
    origin = new URL(url).origin;
    if (origins.size >= 64) origins.clear(); // many Host names (a scan): stay bounded
    origins.set(authority, origin);
  }
  return origin;
}

// The URL-valued fields of our JSON answers (links, image URLs); services write them as paths (`/v1/...`).
// `collection`, `family` and `genus` are a species' links (modules/species/species.links.ts): its cached bytes.
const RELATIVE_URL_FIELD = /"(url|thumbnailUrl|urlSmall|self|next|collection|family|genus)":"\//g;

/*
 * The replacement as a pattern string ("$1" is the field), not a callback: the engine then substitutes natively
 * instead of calling back into JS per URL, which measured ~4 % of a cached read (issue #17). A "$" in the origin
 * is escaped so it stays literal. One per origin, like `originOf`.
 */
const replacements = new Map<string, string>();
function replacementFor(origin: string): string {
  let replacement = replacements.get(origin);
  if (replacement === undefined) {
    replacement = `"$1":"${origin.replaceAll("$", "$$$$")}/`;
    if (replacements.size >= 64) replacements.clear();
    replacements.set(origin, replacement);
  }
  return replacement;
}

/**
 * Services know paths, the transport knows the origin: native image loaders and generated clients need
 * absolute URLs, so `Location` and the URL fields of JSON answers are made absolute here, in one place.
 */
export function absoluteUrls(opts: OriginOptions) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let origin: string | undefined;
    const originNow = () => {
      origin ??= requestOrigin(c, opts);
      return origin;
    };
    const rewrite = (text: string) => text.replace(RELATIVE_URL_FIELD, replacementFor(originNow()));
    // Answers made with `jsonText` apply it themselves, before their Response exists (http/json-body.ts).
    c.set("absoluteJson", rewrite);
    await next();
    const location = c.res.headers.get("location");
    if (location?.startsWith("/")) c.res.headers.set("location", `${originNow()}${location}`);
    const kept = c.get("jsonBody");
    if (kept?.urlsAbsolute && kept.res === c.res) return;
    if (c.res.headers.get("content-type")?.split(";")[0] !== "application/json" || !c.res.body) return;
    const rewritten = rewrite(await jsonBodyOf(c, true)); // c.res is replaced below
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    const { status } = c.res;
    c.res = undefined;
    c.res = keepJsonBody(c, new Response(rewritten, { status, headers }), rewritten, true);
  });
}
