import { errors, jwtVerify, SignJWT } from "jose";
import type { Role, Scope } from "../../http/scopes.ts";

const ISSUER = "plant-community-api";
const AUDIENCE = "plant-community";

export type AccessClaims = { userId: string; role: Role; scopes: Scope[]; sessionId: string };

const keys = new Map<string, Uint8Array>();
function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keys.set(secret, key);
  }
  return key;
}

/** HS256 access token; `sid` is the refresh-token family, so revoking the family also stops its access tokens. */
export async function signAccessToken(
  secret: string,
  claims: AccessClaims,
  opts: { ttlSeconds: number; nowMs: number },
): Promise<string> {
  const iat = Math.floor(opts.nowMs / 1000);
  return new SignJWT({ role: claims.role, scope: claims.scopes.join(" "), sid: claims.sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(keyFor(secret));
}

export type TokenProblem = "expired" | "invalid";

export async function verifyAccessToken(
  secret: string,
  token: string,
  nowMs: number,
): Promise<{ ok: true; claims: AccessClaims } | { ok: false; problem: TokenProblem }> {
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), {
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
