import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose";
import type { Role, Scope } from "../../http/scopes.ts";

const ISSUER = "plant-community-api";
const AUDIENCE = "plant-community";

export type AccessClaims = { userId: string; role: Role; scopes: Scope[]; sessionId: string };

type Key = { kid: string; key: Uint8Array };
const keys = new Map<string, Key>();
/**
 * A key's id is derived from the secret (first 16 hex digits of its SHA-256): operators rotate by changing
 * `JWT_SECRET` and moving the old value to `JWT_PREVIOUS_SECRETS`, with no ids to invent or keep in step.
 * A truncated hash of a 32+ character secret tells an attacker nothing a signed token does not already.
 */
function keyFor(secret: string): Key {
  let key = keys.get(secret);
  if (!key) {
    const kid = new Bun.CryptoHasher("sha256").update(secret).digest("hex").slice(0, 16);
    key = { kid, key: new TextEncoder().encode(secret) };
    keys.set(secret, key);
  }
  return key;
}

/** The signing secret (newest) and the retired ones still accepted until their tokens have expired. */
export type SigningSecrets = { jwtSecret: string; jwtPreviousSecrets?: readonly string[] };

function keyring(secrets: SigningSecrets | string): Key[] {
  const all =
    typeof secrets === "string" ? [secrets] : [secrets.jwtSecret, ...(secrets.jwtPreviousSecrets ?? [])];
  return all.map(keyFor);
}

/** HS256 access token; `sid` is the refresh-token family, so revoking the family also stops its access tokens. */
export async function signAccessToken(
  secrets: SigningSecrets | string,
  claims: AccessClaims,
  opts: { ttlSeconds: number; nowMs: number },
): Promise<string> {
  const iat = Math.floor(opts.nowMs / 1000);
  const [signing] = keyring(secrets);
  return new SignJWT({ role: claims.role, scope: claims.scopes.join(" "), sid: claims.sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: signing!.kid })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(signing!.key);
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
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return { ok: false, problem: "invalid" };
  }
  const candidates = kid === undefined ? ring : ring.filter((k) => k.kid === kid).slice(0, 1);
  let result: Verified = { ok: false, problem: "invalid" };
  for (const candidate of candidates) {
    result = await verifyWith(candidate.key, token, nowMs);
    if (result.ok || result.problem === "expired") return result;
  }
  return result;
}

async function verifyWith(key: Uint8Array, token: string, nowMs: number): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["HS256"],
      currentDate: new Date(nowMs),
      requiredClaims: ["sub", "exp", "iat"],
    });
    const { sub, role, scope, sid } = payload as {
      sub: string;
      role?: unknown;
      scope?: unknown;
      sid?: unknown;
    };
    if (typeof role !== "string" || typeof scope !== "string" || typeof sid !== "string") {
      return { ok: false, problem: "invalid" };
    }
    return {
      ok: true,
      claims: {
        userId: sub,
        role: role as Role,
        scopes: scope.split(" ").filter(Boolean) as Scope[],
        sessionId: sid,
      },
    };
  } catch (err) {
    return { ok: false, problem: err instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
}
