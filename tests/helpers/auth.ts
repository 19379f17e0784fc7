import { expect } from "bun:test";
import { ROLE_SCOPES, type Role, type Scope } from "../../src/http/scopes.ts";
import { CreatedApiKeySchema } from "../../src/modules/api-keys/api-keys.schemas.ts";
import { signAccessToken } from "../../src/modules/auth/access-token.ts";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import type { User } from "../../src/modules/users/users.schemas.ts";
import type { TestApp } from "./app.ts";

export type TestUser = {
  user: User;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `Authorization: Bearer <accessToken>` */
  headers: Record<string, string>;
};

let counter = 0;

/** A distinct, valid email per call (tests share one database). */
export function uniqueEmail(tag = "user"): string {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${counter}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function jsonRequest(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

/**
 * Registers through the API (each call from its own client IP, so the register limit never trips), confirms the
 * address in the database (as following the e-mailed link would; `verified: false` leaves it unconfirmed), sets
 * premium/admin roles directly, then signs in so the tokens carry the role.
 */
export async function registerUser(
  app: TestApp,
  opts: { role?: Role; email?: string; password?: string; verified?: boolean } = {},
): Promise<TestUser> {
  const email = opts.email ?? uniqueEmail(opts.role ?? "user");
  const password = opts.password ?? `pw-${crypto.randomUUID()}`;
  const ip = testIp();
  const res = await app.request(
    "/v1/auth/register",
    jsonRequest("POST", { email, password, displayName: "Test User" }, ipHeader(app, ip)),
  );
  expect(res.status).toBe(202);
  const updated = await app.deps.db.primary
    .updateTable("users")
    .set({
      ...(opts.role && opts.role !== "user" && { role: opts.role }),
      email_verified_at: opts.verified === false ? null : new Date(),
    })
    .where("email", "=", email.toLowerCase())
    .where("deleted_at", "is", null)
    .returning("id")
    .executeTakeFirstOrThrow();
  // As the verification link's handler does: the user's next reads wait for a replica that has this write
  // (else GET /v1/me could read the unconfirmed row from a lagging replica).
  await app.deps.db.markWrite(`user:${updated.id}`);
  const login = await app.request(
    "/v1/auth/login",
    jsonRequest("POST", { email, password }, ipHeader(app, ip)),
  );
  expect(login.status).toBe(200);
  const session = SessionSchema.parse(await login.json());
  return {
    user: session.user,
    email,
    password,
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    headers: bearer(session.accessToken),
  };
}

/** Creates an API key for the token's user; returns the secret and the key's id. */
export async function createApiKey(
  app: TestApp,
  token: string,
  scopes: Scope[],
  opts: { name?: string; expiresAt?: string; headers?: Record<string, string> } = {},
): Promise<{ id: string; key: string; headers: Record<string, string> }> {
  const res = await app.request(
    "/v1/api-keys",
    jsonRequest(
      "POST",
      { name: opts.name ?? "test key", scopes, expiresAt: opts.expiresAt },
      { ...opts.headers, ...bearer(token) },
    ),
  );
  expect(res.status).toBe(201);
  const body = CreatedApiKeySchema.parse(await res.json());
  return { id: body.id, key: body.key, headers: { "x-api-key": body.key } };
}

/** A correctly signed token whose lifetime is over. */
export async function expiredAccessToken(app: TestApp, u: TestUser): Promise<string> {
  return signAccessToken(
    app.config.auth.jwtSecret,
    {
      userId: u.user.id,
      role: u.user.role,
      scopes: [...ROLE_SCOPES[u.user.role]],
      sessionId: crypto.randomUUID(),
    },
    { ttlSeconds: 60, nowMs: Date.now() - 3_600_000 },
  );
}

/** The same token with its claims raised to admin: the signature no longer matches. */
export function tamperedToken(token: string): string {
  const [header = "", payload = "", signature = ""] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  claims.role = "admin";
  claims.scope = "admin species:write";
  return [header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
}

/** A documentation-range IPv4 address per call, sent in the trusted header when the app has one. */
export function testIp(): string {
  counter += 1;
  return `198.51.${(counter >> 8) & 255}.${counter & 255}`;
}

export function ipHeader(app: TestApp, ip: string): Record<string, string> {
  const header = app.config.http.trustProxyHeader;
  return header ? { [header]: ip } : {};
}
