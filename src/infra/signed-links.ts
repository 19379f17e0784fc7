import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * HMAC-signed URLs: `<path>?expires=<unix seconds>&signature=<base64url HMAC-SHA256>`, the signature covering the
 * path, the expiry and who may use the link (`subject`, e.g. a user id), so a link cannot be stretched, pointed
 * elsewhere or used by another account. A small, separate function on purpose: signed photo URLs can share it.
 */
export function signPath(secret: string, path: string, subject: string, expiresAtSec: number): string {
  const signature = mac(secret, path, subject, expiresAtSec);
  return `${path}?expires=${expiresAtSec}&signature=${signature}`;
}

export type LinkCheck = "valid" | "invalid" | "expired";

/** Tampering first (an invalid signature says nothing about expiry), then the expiry. */
export function verifyPath(
  secret: string,
  path: string,
  subject: string,
  query: { expires: number; signature: string },
  nowSec: number,
): LinkCheck {
  const expected = Buffer.from(mac(secret, path, subject, query.expires));
  const given = Buffer.from(query.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
  return query.expires < nowSec ? "expired" : "valid";
}

function mac(secret: string, path: string, subject: string, expiresAtSec: number): string {
  return createHmac("sha256", secret).update(`${subject}\n${path}\n${expiresAtSec}`).digest("base64url");
}
