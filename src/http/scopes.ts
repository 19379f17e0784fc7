/** Every scope a token or API key can carry. Scope names are part of the public contract: never rename one. */
export const SCOPES = [
  "species:read",
  "species:write",
  "identifications:read",
  "identifications:write",
  "account:read",
  "account:write",
  "notifications:read",
  "admin",
] as const;

export type Scope = (typeof SCOPES)[number];

export type Role = "user" | "premium" | "admin";

const MEMBER_SCOPES: readonly Scope[] = [
  "species:read",
  "identifications:read",
  "identifications:write",
  "account:read",
  "account:write",
  "notifications:read",
];

/** What each role may do at most; tokens and keys carry a subset. Premium differs in limits and lanes, not scopes. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  user: MEMBER_SCOPES,
  premium: MEMBER_SCOPES,
  admin: SCOPES,
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The scopes of `requested` that `role` still grants now (a demoted user loses scopes at once). */
export function grantedScopes(role: Role, requested: readonly string[]): Scope[] {
  const allowed = ROLE_SCOPES[role];
  return requested.filter((s): s is Scope => isScope(s) && allowed.includes(s));
}

/** Who is calling, set on `c.var.auth` by the auth middleware. */
export type AuthContext = {
  kind: "user" | "api_key";
  userId: string;
  role: Role;
  scopes: Scope[];
  apiKeyId?: string;
  /** The refresh-token family of a user token (its sign-in session). */
  sessionId?: string;
  /** Redis was unreachable, so whether the session was signed out is not known (see FAIL_CLOSED_SCOPES). */
  revocationUnchecked?: true;
};

/**
 * Routes needing one of these refuse (503) a token whose revocation could not be checked: a stolen token of a
 * signed-out session must not create API keys, change the account or act as an admin while Redis is down.
 * Other routes accept it (fail open): the token lives 15 minutes and the account's state is still checked.
 */
export const FAIL_CLOSED_SCOPES: readonly Scope[] = ["admin", "account:write"];
