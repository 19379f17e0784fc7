import { type LinkCheck, signPath, verifyPath } from "../signed-links.ts";

/** Who may use a signed media or upload URL: anyone holding it (an <img> sends no credentials). */
const MEDIA_SUBJECT = "media";

/**
 * A signed media path, valid for at least three quarters of `ttlSeconds`. The expiry is aligned to a quarter of
 * the TTL, so the same URL (and identification body, and ETag) is handed out for that long: an app revalidating
 * an identification with If-None-Match still gets 304s, and image caches see one URL, not one per request.
 */
export function signMediaPath(secret: string, path: string, ttlSeconds: number, nowMs: number): string {
  const step = Math.max(1, Math.floor(ttlSeconds / 4));
  const start = Math.floor(nowMs / 1000 / step) * step;
  return signPath(secret, path, MEDIA_SUBJECT, start + ttlSeconds);
}

/** An exact expiry (upload URLs: the upload row stores the same instant). */
export function signMediaPathUntil(secret: string, path: string, expiresAtSec: number): string {
  return signPath(secret, path, MEDIA_SUBJECT, expiresAtSec);
}

export function verifyMediaPath(
  secret: string,
  path: string,
  query: { expires?: number | undefined; signature?: string | undefined },
  nowMs: number,
): LinkCheck {
  if (query.expires === undefined || !query.signature) return "invalid";
  return verifyPath(
    secret,
    path,
    MEDIA_SUBJECT,
    { expires: query.expires, signature: query.signature },
    Math.floor(nowMs / 1000),
  );
}
