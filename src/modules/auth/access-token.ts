import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose";
import type { Role, Scope } from "../../http/scopes.ts";

const ISSUER = "plant-community-api";
const AUDIENCE = "plant-community";

export type AccessClaims = { userId: string; role: Role; scopes: Scope[]; sessionId: string };

type Key = { kid: string; key: Promise<CryptoKey> };
const keys = new Map<string, Key>();
/**
 * A key's id is derived from the secret (first 16 hex digits of its SHA-256): operators rotate by changing
 * `JWT_SECRET` and moving the old value to `JWT_PREVIOUS_SECRETS`, with no ids to invent or keep in step.
 * A truncated hash of a 32+ character secret tells an attacker nothing a signed token does not already.
 * Imported once as a CryptoKey: given the raw bytes, jose imports them again at every verification (~11 µs).
 */
function keyFor(secret: string): Key {
  let key = keys.get(secret);
  if (!key) {
    const kid = new Bun.CryptoHasher("sha256").update(secret).digest("hex").slice(0, 16);
    const cryptoKey = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    key = { kid, key: cryptoKey };
    keys.set(secret, key);
  }
  return key;
}

/** The signing secret (newest) and the retired ones still accepted until their tokens have expired. */
export type SigningSecrets = { jwtSecret: string; jwtPreviousSecrets?: readonly string[] };

/**
 * Tokens this instance has already verified, with their claims and expiry (issue #17). A mobile app sends the
 * same access token with every request for its 15 minutes, and verifying it again (jose: header and payload
 * decoded and parsed, HMAC, claim checks) cost ~40 µs of a ~155 µs authenticated catalogue read. A token string
 * is found here only if it verified against this same set of keys, so a hit is exactly what verifying again
 * would answer, expiry included (checked at each hit, as jose does). Revocation is not a property of the token:
 * sessions and accounts are still checked at every request (credentials.ts). Only verified tokens enter, so
 * forged ones cannot fill it; the oldest entries leave first past VERIFIED_TOKENS_MAX (~1 MB).
 */
const VERIFIED_TOKENS_MAX = 2_048;
type VerifiedToken = { claims: AccessClaims; exp: number };
type Ring = { keys: Key[]; verified: Map<string, VerifiedToken> };
const rings = new Map<string, Ring>();
/** The ring of a configuration's secrets object, found without rebuilding its key list at every request. */
const ringOfSecrets = new WeakMap<SigningSecrets, Ring>();

function keyring(secrets: SigningSecrets | string): Ring {
  if (typeof secrets !== "string") {
    const known = ringOfSecrets.get(secrets);
    if (known) return known;
  }
  const all =
    typeof secrets === "string" ? [secrets] : [secrets.jwtSecret, ...(secrets.jwtPreviousSecrets ?? [])];
  const id = all.join("\n");
  let ring = rings.get(id);
  if (!ring) {
    ring = { keys: all.map(keyFor), verified: new Map() };
    rings.set(id, ring);
  }
  if (typeof secrets !== "string") ringOfSecrets.set(secrets, ring);
  return ring;
}

function remember(ring: Ring, token: string, entry: VerifiedToken): void {
  if (ring.verified.size >= VERIFIED_TOKENS_MAX) {
    const oldest = ring.verified.keys().next();
    if (!oldest.done) ring.verified.delete(oldest.value);
  }
  ring.verified.set(token, entry);
}

/** HS256 access token; `sid` is the refresh-token family, so revoking the family also stops its access tokens. */
export async function signAccessToken(
  secrets: SigningSecrets | string,
  claims: AccessClaims,
  opts: { ttlSeconds: number; nowMs: number },
): Promise<string> {
  const iat = Math.floor(opts.nowMs / 1000);
  const [signing] = keyring(secrets).keys;
  return new SignJWT({ role: claims.role, scope: claims.scopes.join(" "), sid: claims.sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: signing!.kid })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(await signing!.key);
}

export type TokenProblem = "expired" | "invalid";

export type Verified = { ok: true; claims: AccessClaims } | { ok: false; problem: TokenProblem };

/**
 * Verified with the key its `kid` names (an unknown kid is invalid: that key was retired). Tokens signed before
 * keys had ids carry none and are tried against every configured key, for one access-token lifetime after the
 * upgrade.
 */
export async function verifyAccessToken(
  secrets: SigningSecrets | string,
  token: string,
  nowMs: number,
): Promise<Verified> {
  const ring = keyring(secrets);
  const known = ring.verified.get(token);
  if (known) {
    // jose's own rule: expired once `exp` is at or before the current second.
    if (known.exp > Math.floor(nowMs / 1000)) return { ok: true, claims: known.claims };
    ring.verified.delete(token);
    return { ok: false, problem: "expired" };
  }
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return { ok: false, problem: "invalid" };
  }
  const candidates = kid === undefined ? ring.keys : ring.keys.filter((k) => k.kid === kid).slice(0, 1);
  let result: Verified = { ok: false, problem: "invalid" };
  for (const candidate of candidates) {
    const checked = await verifyWith(await candidate.key, token, nowMs);
    if (checked.ok) {
      remember(ring, token, checked);
      return { ok: true, claims: checked.claims };
    }
    result = checked;
    if (result.problem === "expired") return result;
  }
  return result;
}

async function verifyWith(
  key: CryptoKey,
  token: string,
  nowMs: number,
): Promise<({ ok: true } & VerifiedToken) | { ok: false; problem: TokenProblem }> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["HS256"],
      currentDate: new Date(nowMs),
      requiredClaims: ["sub", "exp", "iat"],
    });
    const { sub, role, scope, sid, exp } = payload as {
      sub: string;
      exp: number;
      role?: unknown;
      scope?: unknown;
      sid?: unknown;
    };
    if (typeof role !== "string" || typeof scope !== "string" || typeof sid !== "string") {
      return { ok: false, problem: "invalid" };
    }
    // Frozen: one object serves every request that presents this token (VERIFIED_TOKENS_MAX above).
    const claims: AccessClaims = Object.freeze({
      userId: sub,
      role: role as Role,
      scopes: Object.freeze(scope.split(" ").filter(Boolean)) as Scope[],
      sessionId: sid,
    });
    return { ok: true, claims, exp };
  } catch (err) {
    return { ok: false, problem: err instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
}
