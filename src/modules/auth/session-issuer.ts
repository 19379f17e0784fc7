import type { Db } from "../../db/connect.ts";
import type { Deps } from "../../deps.ts";
import { ROLE_SCOPES } from "../../http/scopes.ts";
import { toUserDto } from "../users/users.dto.ts";
import type { UserRow } from "../users/users.repo.ts";
import { signAccessToken } from "./access-token.ts";
import type { Session } from "./auth.schemas.ts";
import { insertRefreshToken } from "./refresh-tokens.repo.ts";
import { newRefreshToken } from "./secrets.ts";

/** A new refresh token in `familyId` (a new family on sign-in) and an access token carrying the role's scopes. */
export async function issueSession(
  deps: Pick<Deps, "config" | "clock">,
  db: Db,
  user: UserRow,
  familyId: string = crypto.randomUUID(),
): Promise<Session> {
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = deps.config.auth;
  const nowMs = deps.clock.now();
  const refresh = newRefreshToken();
  await insertRefreshToken(db, {
    familyId,
    userId: user.id,
    tokenHash: refresh.tokenHash,
    expiresAt: new Date(nowMs + refreshTokenTtlSeconds * 1000),
  });
  const accessToken = await signAccessToken(
    deps.config.auth,
    { userId: user.id, role: user.role, scopes: [...ROLE_SCOPES[user.role]], sessionId: familyId },
    { ttlSeconds: accessTokenTtlSeconds, nowMs },
  );
  return {
    user: toUserDto(user),
    tokenType: "Bearer",
    accessToken,
    expiresIn: accessTokenTtlSeconds,
    refreshToken: refresh.token,
    refreshExpiresIn: refreshTokenTtlSeconds,
  };
}
