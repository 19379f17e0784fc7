import type { Deps } from "../../deps.ts";

/**
 * Revoked sign-in sessions (refresh-token families), remembered for as long as an access token of the
 * family could still be valid, so logout and reuse detection also stop the family's access tokens.
 */
function key(deps: Pick<Deps, "config">, sessionId: string) {
  return `${deps.config.redis.keyPrefix}auth:revoked-session:${sessionId}`;
}

export async function markSessionsRevoked(
  deps: Pick<Deps, "config" | "redis" | "logger">,
  sessionIds: string[],
) {
  if (sessionIds.length === 0) return;
  const ttl = deps.config.auth.accessTokenTtlSeconds + 60;
  try {
    const multi = deps.redis.cache.multi();
    for (const id of sessionIds) multi.set(key(deps, id), "1", "EX", ttl);
    await multi.exec();
  } catch (err) {
    // The refresh tokens are revoked in the database regardless; only the short-lived access tokens live on.
    deps.logger.warn(
      { err: String(err), sessions: sessionIds.length },
      "revoked sessions not recorded in redis",
    );
  }
}

/**
 * "unknown" when Redis is unreachable. The caller decides per route (see FAIL_CLOSED_SCOPES): ordinary routes
 * fail open (the access token is short-lived and the user's state is still checked), while admin and account
 * changes fail closed, so a signed-out session cannot mint an API key or change roles during an outage.
 */
export async function isSessionRevoked(
  deps: Pick<Deps, "config" | "redis" | "logger">,
  sessionId: string,
): Promise<boolean | "unknown"> {
  try {
    return (await deps.redis.cache.exists(key(deps, sessionId))) === 1;
  } catch (err) {
    deps.logger.warn({ err: String(err) }, "session revocation check skipped: redis unreachable");
    return "unknown";
  }
}
