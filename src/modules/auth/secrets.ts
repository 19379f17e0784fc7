import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "pc_live_";
/** `pc_live_` + 32 random bytes in base64url (43 characters). */
export const API_KEY_PATTERN = /^pc_live_[A-Za-z0-9_-]{43}$/;

/** High-entropy secrets need no slow hash: SHA-256 makes the stored value useless to a database thief. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

export function newApiKey(): { key: string; prefix: string; keyHash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 8), keyHash: sha256Hex(key) };
}

export const hashApiKey = sha256Hex;

export function newRefreshToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: sha256Hex(token) };
}
