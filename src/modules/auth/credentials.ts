import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { type AuthContext, grantedScopes, type Role } from "../../http/scopes.ts";
import { type ApiKeyRow, findApiKeyByHash, touchApiKey } from "../api-keys/api-keys.repo.ts";
import { findUserAuthState, type UserAuthState } from "../users/users.repo.ts";
import { verifyAccessToken } from "./access-token.ts";
import { API_KEY_PATTERN, hashApiKey } from "./secrets.ts";
import { isSessionRevoked } from "./sessions.ts";

type AuthDeps = Pick<Deps, "config" | "db" | "cache" | "redis" | "logger" | "clock">;

const STATE_TTL_SECONDS = 30;
const USER_CACHE = "auth-user";
const KEY_CACHE = "auth-key";

/**
 * RFC 6750 `invalid_token`. `token_expired` tells a client to refresh its session; `invalid_token` (revoked,
 * tampered, account gone, API key unknown or expired) to sign in again: nothing a refresh would fix.
 */
export function invalidCredentials(
  detail: string,
  code: "invalid_token" | "token_expired" = "invalid_token",
) {
  return new AppError(code, detail, { authChallenge: { error: "invalid_token", description: detail } });
}

/** The current role and deletion state, cached briefly in Redis; writers call `forgetUserState`. */
export async function loadUserState(deps: AuthDeps, userId: string): Promise<UserAuthState | undefined> {
  return deps.cache.getOrLoad(USER_CACHE, userId, STATE_TTL_SECONDS, () =>
    findUserAuthState(deps.db.primary, userId),
  );
}

export async function forgetUserState(deps: Pick<Deps, "cache">, userId: string) {
  await deps.cache.del(USER_CACHE, userId);
}

export async function forgetApiKeys(deps: Pick<Deps, "cache">, keyHashes: string[]) {
  await Promise.all(keyHashes.map((h) => deps.cache.del(KEY_CACHE, h)));
}

export async function authenticateBearer(deps: AuthDeps, token: string): Promise<AuthContext> {
  const verified = await verifyAccessToken(deps.config.auth, token, deps.clock.now());
  if (!verified.ok) {
    throw verified.problem === "expired"
      ? invalidCredentials("The access token has expired; refresh the session.", "token_expired")
      : invalidCredentials("The access token is not valid; sign in again.");
  }
  const { claims } = verified;
  const [state, revoked] = await Promise.all([
    loadUserState(deps, claims.userId),
    isSessionRevoked(deps, claims.sessionId),
  ]);
  if (!state || state.deleted) throw invalidCredentials("The account no longer exists.");
  if (revoked === true) throw invalidCredentials("The session has been signed out.");
  return {
    kind: "user",
    userId: claims.userId,
    role: state.role,
    scopes: grantedScopes(state.role, claims.scopes),
    sessionId: claims.sessionId,
    ...(revoked === "unknown" && { revocationUnchecked: true }),
  };
}

type CachedKey = Pick<ApiKeyRow, "id" | "user_id" | "scopes"> & {
  expiresAt: number | null;
  revoked: boolean;
};

export async function authenticateApiKey(deps: AuthDeps, key: string): Promise<AuthContext> {
  if (!API_KEY_PATTERN.test(key)) throw invalidCredentials("The API key is not valid.");
  const keyHash = hashApiKey(key);
  const row = await deps.cache.getOrLoad<CachedKey | undefined>(
    KEY_CACHE,
    keyHash,
    STATE_TTL_SECONDS,
    async () => {
      const found = await findApiKeyByHash(deps.db.primary, keyHash);
      return (
        found && {
          id: found.id,
          user_id: found.user_id,
          scopes: found.scopes,
          expiresAt: found.expires_at?.getTime() ?? null,
          revoked: found.revoked_at !== null,
        }
      );
    },
  );
  if (!row || row.revoked) throw invalidCredentials("The API key is not valid.");
  if (row.expiresAt !== null && row.expiresAt <= deps.clock.now())
    throw invalidCredentials("The API key has expired.");
  const state = await loadUserState(deps, row.user_id);
  if (!state || state.deleted) throw invalidCredentials("The account no longer exists.");
  void noteKeyUse(deps, row.id);
  return {
    kind: "api_key",
    userId: row.user_id,
    role: state.role as Role,
    scopes: grantedScopes(state.role, row.scopes),
    apiKeyId: row.id,
  };
}

/** `last_used_at` at most once a minute per key, so a busy integration does not write on every call. */
async function noteKeyUse(deps: AuthDeps, id: string) {
  try {
    const fresh = await deps.redis.cache.set(
      `${deps.config.redis.keyPrefix}auth:key-used:${id}`,
      "1",
      "EX",
      60,
      "NX",
    );
    if (fresh === "OK") await touchApiKey(deps.db.primary, id);
  } catch (err) {
    deps.logger.debug({ err: String(err) }, "api key last_used_at not updated");
  }
}
